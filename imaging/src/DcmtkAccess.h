#pragma once
// Internal helpers for reading DCMTK data sets; included only by imaging/src/*.cpp.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>

#include <string>
#include <vector>

namespace np::imaging::detail {

/// Deepest nesting of sequence items NeedlePlan reads. DICOM objects in the field nest a few levels
/// (enhanced multi-frame functional groups 3, SR content trees rarely beyond 20); DCMTK 3.6.7
/// parses nesting recursively without a limit, so thousands of levels exhaust the stack.
inline constexpr int kMaxDicomNesting = 64;

/// Walks the file's bytes (iteratively, without DCMTK) and throws np::Error(CorruptData) naming the
/// file when its sequence items nest deeper than `maxDepth`. With `stopAtPixelData` the walk ends
/// at the top-level PixelData, as a header read does. Deflated datasets are inflated on the fly
/// (at most 1 GiB; more is np::Error(TooLarge)).
void checkDicomNesting(const std::string& path, bool stopAtPixelData, int maxDepth = kMaxDicomNesting);

/// DcmFileFormat::loadFile (or loadFileUntilTag with `stopTag`) after checkDicomNesting.
/// Returns DCMTK's status; throws np::Error for a file nested too deeply.
OFCondition loadDicomFile(DcmFileFormat& file, const std::string& path, Uint32 maxReadLength = DCM_MaxReadLength,
                          E_FileReadMode readMode = ERM_autoDetect, const DcmTagKey* stopTag = nullptr);

/// Text of an attribute as UTF-8 with surrounding blanks removed ("" when absent). Text that is
/// not valid UTF-8 is read as ISO 8859-1, the usual SpecificCharacterSet "ISO_IR 100".
std::string dicomText(DcmItem* item, const DcmTagKey& tag);

/// The items of a sequence attribute (empty when absent).
std::vector<DcmItem*> sequenceItems(DcmItem& item, const DcmTagKey& tag);

/// True when `text` is well-formed UTF-8.
bool isValidUtf8(const std::string& text);

/// `raw` itself when it is valid UTF-8, else `raw` read as ISO 8859-1 and converted.
std::string toUtf8(const std::string& raw);

} // namespace np::imaging::detail
