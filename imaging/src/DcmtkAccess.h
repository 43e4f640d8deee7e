#pragma once
// Internal helpers for reading DCMTK data sets; included only by imaging/src/*.cpp.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcitem.h>

#include <string>
#include <vector>

namespace np::imaging::detail {

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
