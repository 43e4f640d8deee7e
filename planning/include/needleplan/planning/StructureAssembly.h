#pragma once
/// Structures from several sources (automatic segmentation, DICOM SEG, RTSTRUCT, label maps) on
/// one grid, flattened into the single label map the clearance fields are computed from.
///
/// A label map holds one label per voxel, so where structures overlap one of them must own the
/// voxel. The owner is the most severe structure: forbidden beats obstacle beats caution beats
/// target beats ignored; within a class the larger margin wins; on a full tie the structure given
/// first wins. A forbidden structure therefore never loses voxels to a less severe one.
///
/// Why this never makes a path look safer: a voxel a structure L loses goes to a structure W whose
/// rule is at least as strict there. Forbidden is checked along the whole shaft, obstacles only
/// before the tip zone, so a forbidden owner checks a superset of the shaft. Margins: within a
/// class the owner's margin is the larger one; when an obstacle loses voxels to a forbidden
/// structure with a smaller margin, the forbidden structure's margin is raised to the obstacle's
/// (and the flattening repeated until no such case is left), with a note. Only the ranking score
/// can change: a caution structure's penalty is not counted inside the forbidden or obstacle
/// structure that took its voxels; the safe/unsafe verdict never improves.

#include "needleplan/imaging/Geometry.h"
#include "needleplan/imaging/Volume.h"
#include "needleplan/planning/Structure.h"

#include <cstdint>
#include <string>
#include <vector>

namespace np::imaging {
class StructureSet;
struct StructureMask;
} // namespace np::imaging

namespace np::planning {

/// One structure offered to the planner: its voxels, its rule and where it came from. The voxels
/// are either a 0/1 mask or the voxels of a label map that hold one value (label maps on the
/// planning grid need no mask per segment).
struct StructureInput
{
    StructureSpec spec;                           ///< class and margin; the label value is assigned later
    std::string source;                           ///< e.g. a file name or "automatic segmentation"
    const imaging::StructureMask* mask = nullptr; ///< 0/1 voxels on the assembly grid (not owned)
    const imaging::LabelMap* labelMap = nullptr;  ///< or: a label map on the assembly grid (not owned)
    std::uint16_t sourceLabel = 0;                ///< the value that marks it in `labelMap`
};

/// Appends every structure of `set` to `inputs` with the default rule for its name. A name already
/// used by an earlier input gets a suffix "_2", "_3", ... (so margins can still be set per
/// structure), with a note in `notes`. The set must outlive `inputs`.
void appendStructureInputs(std::vector<StructureInput>& inputs, const imaging::StructureSet& set,
                           const std::string& source, std::vector<std::string>* notes = nullptr);

/// Appends one input per segment of a label map already on the planning grid (value 0 and repeated
/// values skipped), plus "label_<value>" for values that no segment names, like
/// StructureSet::fromLabelMap but without a mask per segment. The label map must outlive `inputs`.
void appendStructureInputs(std::vector<StructureInput>& inputs, const imaging::LabelMap& labels,
                           const std::string& source, std::vector<std::string>* notes = nullptr);

/// Severity rank of a class: ignored 0, target 1, caution 2, obstacle 3, forbidden 4.
int structureSeverity(StructureClass structureClass);

/// True when `a` owns a voxel it shares with `b` (higher severity, then larger margin). Equal rules
/// give false both ways; the caller then keeps the one given first.
bool takesPrecedence(const StructureSpec& a, const StructureSpec& b);

/// What became of one input structure.
struct AssembledStructure
{
    StructureSpec spec;              ///< final rule, label value in the assembled label map
    std::string source;              ///< from StructureInput::source
    std::int64_t voxelCount = 0;     ///< voxels of the input mask
    std::int64_t keptVoxelCount = 0; ///< voxels it owns after the overlaps were resolved
    bool marginRaised = false;       ///< the margin was raised to cover a structure it overrode
};

/// The flattened structures.
struct StructureAssembly
{
    imaging::LabelMap labels;                ///< one label per voxel, segments named like the inputs
    std::vector<StructureSpec> structures;   ///< rules for the clearance fields, label values 1..N
    std::vector<AssembledStructure> details; ///< per input, in input order
    std::vector<std::string> notes;          ///< overlaps resolved and margins raised, readable
};

/// Flattens the inputs onto `grid` (see the file comment). Label values are 1..N in input order.
/// Throws np::Error(InvalidArgument) for a mask or label map whose size does not match the grid,
/// an input with neither, or more than 65535 structures.
StructureAssembly assembleStructures(const imaging::Geometry& grid,
                                     const std::vector<StructureInput>& inputs);

} // namespace np::planning
