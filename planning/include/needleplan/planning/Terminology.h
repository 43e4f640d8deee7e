#pragma once
/// The terminology table: structure names (TotalSegmentator v1/v2, 3D Slicer, the phantom, the
/// automatic segmentation) and SNOMED CT codes (as DICOM SEG carries them in
/// SegmentedPropertyTypeCodeSequence) with the planning class and default margin each gets. The
/// table is data, `planning/terminology/structures.json`, compiled into the library at build time
/// so that tests, the CLI and the workstation read the same table from any install location.

#include "needleplan/imaging/DicomSegIO.h"
#include "needleplan/imaging/Volume.h"
#include "needleplan/planning/Structure.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace np::planning {

/// A group of structures that share a planning rule (nerve, vessel, organ, bone, ...).
struct TerminologyGroup
{
    std::string name;
    StructureClass structureClass = StructureClass::Caution;
    double marginMm = 0.0;
    imaging::CodedConcept category; ///< generic codes for a structure of this group (may be empty)
    imaging::CodedConcept type;
    std::string description;
};

/// One structure of the table.
struct TerminologyEntry
{
    std::string name;                 ///< canonical name, e.g. "iliac_vena_left"
    std::vector<std::string> aliases; ///< other names of the same structure, e.g. "left common iliac vein"
    std::string group;
    imaging::CodedConcept category; ///< SegmentedPropertyCategoryCode (empty when the table has none)
    imaging::CodedConcept type;     ///< SegmentedPropertyTypeCode
    imaging::CodedConcept modifier; ///< SegmentedPropertyTypeModifierCode (laterality)
    std::vector<std::string> sources;
};

/// Lower case, with spaces, hyphens and dots read as underscores (runs collapsed, ends trimmed):
/// "Spinal Cord" and "spinal-cord" both become "spinal_cord".
std::string normalizedStructureName(const std::string& name);

/// The parsed table. Lookups are exact (no substrings).
class Terminology
{
public:
    /// The table compiled into the library (parsed once, thread-safe).
    static const Terminology& builtIn();
    /// Parses a table; throws np::Error(CorruptData) naming `what` and the problem (bad JSON,
    /// unknown group or class, one code or name given two different groups).
    static Terminology parse(const std::string& jsonText, const std::string& what);

    /// Entry whose type code is `code` (scheme SCT), or nullptr.
    const TerminologyEntry* findByCode(const imaging::CodedConcept& code) const;
    /// Entry with this name or alias (compared after normalizedStructureName), or nullptr.
    const TerminologyEntry* findByName(const std::string& name) const;
    /// Group by name, or nullptr.
    const TerminologyGroup* group(const std::string& name) const;

    const std::vector<TerminologyEntry>& entries() const { return m_entries; }
    const std::map<std::string, TerminologyGroup>& groups() const { return m_groups; }
    /// Source name → where its names and codes come from.
    const std::map<std::string, std::string>& sources() const { return m_sources; }
    /// Distinct names and aliases after normalisation.
    std::size_t nameCount() const { return m_byName.size(); }
    /// Distinct SNOMED type codes.
    std::size_t codeCount() const { return m_byCode.size(); }
    /// Label value → name of a multilabel segmentation's numbering ("totalsegmentator-v2" is
    /// TotalSegmentator v2's 'total' class map, "totalsegmentator-v1" its 'total_v1'); empty when
    /// unknown.
    std::map<std::uint16_t, std::string> classMap(const std::string& name) const;
    /// Names of the class maps the table holds.
    std::vector<std::string> classMapNames() const;

private:
    std::vector<TerminologyEntry> m_entries;
    std::map<std::string, TerminologyGroup> m_groups;
    std::map<std::string, std::string> m_sources;
    std::map<std::string, std::vector<std::string>> m_classMaps;
    std::unordered_map<std::string, std::size_t> m_byName; ///< normalised name → entry
    std::unordered_map<std::string, std::size_t> m_byCode; ///< SCT code value → entry
};

/// Classifies a segment: by its SNOMED type code first ("terminology: SNOMED 46027005 (Common iliac
/// vein)"), then by its exact name ("name: iliac_vena_left"), then by an RTSTRUCT interpreted type
/// (EXTERNAL/SUPPORT/FIXATION/BOLUS ignored, AVOIDANCE forbidden 3 mm, GTV/CTV/PTV target), and
/// only then by the substring fallback ("fallback: contains 'root'"); an RTSTRUCT ORGAN that no rule
/// names is forbidden 5 mm. A code the table does not know adds a warning and the name decides.
StructureSpec classifySegment(const imaging::Segment& segment, std::vector<std::string>* warnings = nullptr);

/// SNOMED CT codes for a structure name, for writers of DICOM SEG (imaging takes codes, not names).
struct StructureCodes
{
    imaging::CodedConcept category;
    imaging::CodedConcept type;
    imaging::CodedConcept modifier;
    /// "terminology" (the name is in the table), "group" (the generic code of the group its class
    /// rule puts it in, e.g. Nerve for "nerve_root_L4_left") or "generic" (Tissue / Tissue).
    std::string source;
};

/// The codes of `name`: the table's entry when it names the structure, otherwise the generic code
/// of the group the fallback puts it in, otherwise SCT 85756007 Tissue for category and type.
StructureCodes structureCodesForName(const std::string& name);

/// The DICOM SEG codes of a segment, for imaging::DicomSegWriteOptions::coding (imaging takes the
/// codes as data): the category, type and modifier the segment already carries (read from a SEG or
/// an RTSTRUCT) when it has both a category and a type, otherwise structureCodesForName(its name).
imaging::SegmentCoding segmentCodingFor(const imaging::Segment& segment);

} // namespace np::planning
