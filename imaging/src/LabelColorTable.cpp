#include "needleplan/imaging/LabelColorTable.h"

#include "needleplan/imaging/Error.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace np::imaging {

namespace {

std::string withoutComment(const std::string& line)
{
    // A '#' inside a quoted ITK-SNAP label is part of the name.
    bool quoted = false;
    for (std::size_t c = 0; c < line.size(); ++c) {
        if (line[c] == '"')
            quoted = !quoted;
        else if (line[c] == '#' && !quoted)
            return line.substr(0, c);
    }
    return line;
}

} // namespace

std::vector<LabelColorEntry> readLabelColorTable(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        throw Error(ErrorCode::NotFound, "colour table " + path + " cannot be opened");
    std::vector<LabelColorEntry> table;
    std::set<std::uint16_t> seen;
    std::string line;
    int lineNumber = 0;
    while (std::getline(in, line)) {
        ++lineNumber;
        const std::string text = withoutComment(line);
        if (text.find_first_not_of(" \t\r") == std::string::npos)
            continue;
        auto bad = [&](const std::string& why) {
            return Error(ErrorCode::CorruptData, path + " line " + std::to_string(lineNumber) + ": " + why);
        };
        LabelColorEntry entry;
        long long value = -1;
        double rgb[3] = {0, 0, 0};
        const std::size_t quote = text.find('"');
        if (quote != std::string::npos) {
            // ITK-SNAP: IDX R G B A VIS MSH "LABEL"
            const std::size_t close = text.find('"', quote + 1);
            if (close == std::string::npos)
                throw bad("unterminated quoted label");
            entry.name = text.substr(quote + 1, close - quote - 1);
            std::istringstream fields(text.substr(0, quote));
            double alpha = 0;
            int visible = 0, mesh = 0;
            if (!(fields >> value >> rgb[0] >> rgb[1] >> rgb[2] >> alpha >> visible >> mesh))
                throw bad("expected IDX R G B A VIS MSH \"LABEL\"");
        } else {
            // Slicer: value name R G B A
            std::istringstream fields(text);
            double alpha = 0;
            if (!(fields >> value >> entry.name >> rgb[0] >> rgb[1] >> rgb[2]))
                throw bad("expected value name R G B A");
            fields >> alpha;
        }
        if (value == 0)
            continue;
        if (value < 1 || value > 65535)
            throw bad("label value " + std::to_string(value) + " is outside 1..65535");
        for (int c = 0; c < 3; ++c) {
            if (!std::isfinite(rgb[c]) || rgb[c] < 0 || rgb[c] > 255)
                throw bad("colour component " + std::to_string(rgb[c]) + " is outside 0..255");
            entry.colorRgb[static_cast<std::size_t>(c)] = rgb[c] / 255.0;
        }
        entry.value = static_cast<std::uint16_t>(value);
        if (!seen.insert(entry.value).second)
            throw bad("label value " + std::to_string(value) + " appears twice");
        if (entry.name.empty())
            entry.name = "label_" + std::to_string(value);
        table.push_back(entry);
    }
    if (table.empty())
        throw Error(ErrorCode::CorruptData, "colour table " + path + " names no label");
    return table;
}

int applyLabelColorTable(LabelMap& labels, const std::vector<LabelColorEntry>& table)
{
    int renamed = 0;
    for (auto& segment : labels.segments()) {
        const auto found = std::find_if(table.begin(), table.end(), [&](const LabelColorEntry& e) {
            return e.value == segment.labelValue;
        });
        if (found == table.end())
            continue;
        segment.name = found->name;
        segment.colorRgb = found->colorRgb;
        ++renamed;
    }
    return renamed;
}

} // namespace np::imaging
