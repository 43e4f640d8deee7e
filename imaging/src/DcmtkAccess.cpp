#include "DcmtkAccess.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <cstdint>

namespace np::imaging::detail {

// Well-formed: no overlong forms, no surrogates, nothing above U+10FFFF.
bool isValidUtf8(const std::string& text)
{
    const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t size = text.size();
    std::size_t n = 0;
    while (n < size) {
        const unsigned char lead = bytes[n];
        int continuation = 0;
        std::uint32_t codePoint = 0;
        if (lead < 0x80) {
            ++n;
            continue;
        } else if ((lead & 0xE0) == 0xC0) {
            continuation = 1, codePoint = lead & 0x1F;
        } else if ((lead & 0xF0) == 0xE0) {
            continuation = 2, codePoint = lead & 0x0F;
        } else if ((lead & 0xF8) == 0xF0) {
            continuation = 3, codePoint = lead & 0x07;
        } else {
            return false;
        }
        if (n + static_cast<std::size_t>(continuation) >= size)
            return false;
        for (int c = 1; c <= continuation; ++c) {
            if ((bytes[n + c] & 0xC0) != 0x80)
                return false;
            codePoint = (codePoint << 6) | (bytes[n + c] & 0x3F);
        }
        static const std::uint32_t smallest[4] = {0, 0x80, 0x800, 0x10000};
        if (codePoint < smallest[continuation] || codePoint > 0x10FFFF || (codePoint >= 0xD800 && codePoint <= 0xDFFF))
            return false;
        n += static_cast<std::size_t>(continuation) + 1;
    }
    return true;
}

// ISO 8859-1 always converts: each byte is one code point.
std::string toUtf8(const std::string& raw)
{
    if (isValidUtf8(raw))
        return raw;
    std::string utf8;
    utf8.reserve(raw.size() * 2);
    for (const char c : raw) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x80) {
            utf8.push_back(c);
        } else {
            utf8.push_back(static_cast<char>(0xC0 | (byte >> 6)));
            utf8.push_back(static_cast<char>(0x80 | (byte & 0x3F)));
        }
    }
    return utf8;
}

OFCondition loadDicomFile(DcmFileFormat& file, const std::string& path, Uint32 maxReadLength, E_FileReadMode readMode,
                          const DcmTagKey* stopTag)
{
    checkDicomNesting(path, stopTag && *stopTag == DCM_PixelData);
    if (stopTag)
        return file.loadFileUntilTag(path.c_str(), EXS_Unknown, EGL_noChange, maxReadLength, readMode, *stopTag);
    return file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, maxReadLength, readMode);
}

std::string dicomText(DcmItem* item, const DcmTagKey& tag)
{
    OFString value;
    if (!item || item->findAndGetOFStringArray(tag, value).bad())
        return {};
    std::string text(value.c_str());
    const char* blanks = " \t\r\n";
    text.erase(0, text.find_first_not_of(blanks));
    text.erase(text.find_last_not_of(blanks) + 1);
    return toUtf8(text);
}

std::vector<DcmItem*> sequenceItems(DcmItem& item, const DcmTagKey& tag)
{
    std::vector<DcmItem*> items;
    DcmSequenceOfItems* sequence = nullptr;
    if (item.findAndGetSequence(tag, sequence).good() && sequence)
        for (unsigned long n = 0; n < sequence->card(); ++n)
            items.push_back(sequence->getItem(n));
    return items;
}

} // namespace np::imaging::detail
