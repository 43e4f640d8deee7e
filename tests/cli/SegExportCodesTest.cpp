// needleplan-cli structures export: each segment of the DICOM SEG carries the SNOMED CT category,
// type and laterality codes of the terminology table, read back here by DCMTK's dcmdump (an
// independent parse of the written file) and checked against codes written by hand from SNOMED CT
// (as TotalSegmentator's totalsegmentator_snomed_mapping.csv and DICOM CID 7150/7151 give them);
// dciodvfy reports no error. The automatic segmentation's vertebrae carry the code of their level
// (DICOM CID 7603 and CID 4031, written here from the standard's tables).

#include "CliRunner.h"
#include "TestSupport.h"
#include "needleplan/imaging/LabelMapIO.h"

#include <algorithm>
#include <cstdio>
#include <gtest/gtest.h>
#include <map>
#include <sstream>

namespace {

namespace fs = std::filesystem;

struct DumpedSegment
{
    std::string label;
    std::string category; ///< CodingSchemeDesignator:CodeValue
    std::string type;
    std::string modifier;
};

std::string quoted(const std::string& text)
{
    std::string out = "'";
    for (const char c : text)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

/// The value between the first '[' and the last ']' of a dcmdump line.
std::string valueOf(const std::string& line)
{
    const auto open = line.find('['), close = line.rfind(']');
    return open == std::string::npos || close == std::string::npos || close < open
               ? std::string()
               : line.substr(open + 1, close - open - 1);
}

/// The Segment Sequence as dcmdump prints it: one entry per item, codes as "SCHEME:VALUE".
/// `ran` is false when dcmdump is not installed.
std::vector<DumpedSegment> dumpSegments(const fs::path& path, bool& ran)
{
    ran = false;
    if (std::system("command -v dcmdump >/dev/null 2>&1") != 0)
        return {};
    FILE* pipe = ::popen(("dcmdump -q " + quoted(path.string()) + " 2>&1").c_str(), "r");
    if (!pipe)
        return {};
    std::string text;
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
        text.append(buffer, n);
    ran = ::pclose(pipe) == 0;
    std::vector<DumpedSegment> segments;
    std::istringstream lines(text);
    std::size_t sequenceIndent = std::string::npos; // indent of (0062,0002) SegmentSequence
    std::map<std::size_t, std::string> sequenceAt;  // indent → tag of the last SQ opened there
    std::string scheme;                             // CodingSchemeDesignator of the current code item
    for (std::string line; std::getline(lines, line);) {
        const std::size_t indent = line.find('(');
        if (indent == std::string::npos || line.size() < indent + 11)
            continue;
        const std::string tag = line.substr(indent, 11);
        if (sequenceIndent == std::string::npos) {
            if (tag == "(0062,0002)")
                sequenceIndent = indent;
            continue;
        }
        if (indent <= sequenceIndent) // the Segment Sequence ended
            break;
        if (indent == sequenceIndent + 2 && tag == "(fffe,e000)") {
            segments.emplace_back();
            continue;
        }
        if (segments.empty())
            continue;
        DumpedSegment& segment = segments.back();
        if (line.compare(indent + 12, 2, "SQ") == 0)
            sequenceAt[indent] = tag;
        else if (indent == sequenceIndent + 4 && tag == "(0062,0005)")
            segment.label = valueOf(line);
        else if (tag == "(0008,0102)")
            scheme = valueOf(line);
        else if (tag == "(0008,0100)" && indent >= 4) {
            const std::string owner = sequenceAt[indent - 4];
            // Within an item CodeValue (0008,0100) comes before the designator (0008,0102): keep
            // the value and add the scheme when it follows.
            std::string* slot = owner == "(0062,0003)"   ? &segment.category
                                : owner == "(0062,000f)" ? &segment.type
                                : owner == "(0062,0011)" ? &segment.modifier
                                                         : nullptr;
            if (slot)
                *slot = valueOf(line);
        }
        if (tag == "(0008,0102)" && indent >= 4) {
            const std::string owner = sequenceAt[indent - 4];
            std::string* slot = owner == "(0062,0003)"   ? &segment.category
                                : owner == "(0062,000f)" ? &segment.type
                                : owner == "(0062,0011)" ? &segment.modifier
                                                         : nullptr;
            if (slot)
                *slot = scheme + ":" + *slot;
        }
    }
    return segments;
}

TEST(SegExportCodes, EachSegmentCarriesTheTerminologyCodesOfItsName)
{
    np::test::TempDir dir;
    const fs::path phantom = dir.path() / "phantom";
    const auto made = np::test::runCli(
        {"phantom", "--out", phantom.string(), "--size", "48,40,12", "--spacing", "3.5,3,4"});
    ASSERT_EQ(made.exitCode, 0) << made.err;

    // Structures named as TotalSegmentator, the phantom and nobody name them, on the CT's grid.
    const np::imaging::LabelMap phantomLabels =
        np::imaging::readLabelMap((phantom / "structures.seg.nrrd").string());
    np::imaging::LabelMap labels(phantomLabels.geometry());
    const char* names[] = {"iliac_vena_left",    "liver",  "vertebrae_L4", "aorta",
                           "nerve_root_L4_left", "label_7"};
    for (std::uint16_t n = 0; n < 6; ++n)
        labels.segments().push_back({names[n], static_cast<std::uint16_t>(n + 1), {0.2, 0.4, 0.6}});
    const auto& g = labels.geometry();
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i)
                labels.at(i, j, k) = static_cast<std::uint16_t>(1 + (i / 8) % 6);
    const fs::path structures = dir.path() / "named.seg.nrrd";
    np::imaging::writeSegNrrd(labels, structures.string());

    const fs::path out = dir.path() / "named.dcm";
    const auto result =
        np::test::runCli({"structures", "export", "--structures", structures.string(), "--reference",
                          (phantom / "dicom").string(), "--out", out.string()});
    ASSERT_EQ(result.exitCode, 0) << result.err;

    bool ran = false;
    const auto segments = dumpSegments(out, ran);
    if (!ran)
        GTEST_SKIP() << "dcmdump (Debian package dcmtk) is not installed";
    ASSERT_EQ(segments.size(), 6u);
    struct Expected
    {
        const char* label;
        const char* category;
        const char* type;
        const char* modifier;
    };
    // SNOMED CT (3D Slicer's terminology lists the same): 123037004 Anatomical Structure, 85756007 Tissue,
    // 46027005 Common iliac vein, 7771000 Left, 10200004 Liver, 11994002 L4 vertebra, 15825003 Aorta,
    // 119410002 Nerve (no code of its own for an L4 root: the generic one), 85756007 Tissue for an
    // unknown name.
    const Expected expected[] = {
        {"iliac_vena_left", "SCT:123037004", "SCT:46027005", "SCT:7771000"},
        {"liver", "SCT:123037004", "SCT:10200004", ""},
        {"vertebrae_L4", "SCT:123037004", "SCT:11994002", ""},
        {"aorta", "SCT:123037004", "SCT:15825003", ""},
        {"nerve_root_L4_left", "SCT:85756007", "SCT:119410002", ""},
        {"label_7", "SCT:85756007", "SCT:85756007", ""},
    };
    for (const Expected& e : expected) {
        const auto found = std::find_if(segments.begin(), segments.end(),
                                        [&](const DumpedSegment& s) { return s.label == e.label; });
        ASSERT_NE(found, segments.end()) << e.label;
        EXPECT_EQ(found->category, e.category) << e.label;
        EXPECT_EQ(found->type, e.type) << e.label;
        EXPECT_EQ(found->modifier, e.modifier) << e.label;
    }

    const auto verdict = np::test::runDciodvfy(out);
    NP_SKIP_UNLESS_DCIODVFY_RAN(verdict);
    EXPECT_EQ(verdict.errorCount, 0) << verdict.errors;

    // Read back, the codes classify the segments (the code decides before the name).
    const auto back =
        np::test::runCli({"structures", "import", out.string(), "--reference", (phantom / "dicom").string(),
                          "--out", (dir.path() / "back.seg.nrrd").string()});
    ASSERT_EQ(back.exitCode, 0) << back.err;
    EXPECT_NE(back.out.find("terminology: SNOMED 46027005"), std::string::npos) << back.out;
    EXPECT_NE(back.out.find("terminology: SNOMED 11994002"), std::string::npos) << back.out;
}

TEST(SegExportCodes, AutomaticVertebraeCarryTheCodesOfTheirLevels)
{
    // The automatic segmentation names the vertebrae by level; its DICOM SEG gives each the SNOMED
    // CT code of that level. The phantom holds three lumbar vertebrae above the sacrum: named with
    // the default count they are L3-L5, with "--lowest-lumbar L2" T12, L1 and L2.
    np::test::TempDir dir;
    const auto generated = np::test::runCli({"phantom", "--out", (dir.path() / "phantom").string(),
                                             "--spacing", "2,2,2", "--size", "120,105,83"});
    ASSERT_EQ(generated.exitCode, 0) << generated.err;
    const std::string image = (dir.path() / "phantom" / "dicom").string();

    // DICOM PS3.16 CID 7603 (Vertebra) and CID 4031 (Common Anatomic Regions, sacrum); category
    // SCT 123037004 Anatomical Structure.
    const std::map<std::string, std::string> levelCode = {
        {"vertebra_T12", "SCT:23215003"}, {"vertebra_L1", "SCT:66794005"}, {"vertebra_L2", "SCT:14293000"},
        {"vertebra_L3", "SCT:36470004"},  {"vertebra_L4", "SCT:11994002"}, {"vertebra_L5", "SCT:49668003"},
        {"sacrum", "SCT:54735007"}};
    const std::vector<std::vector<std::string>> runs = {
        {"vertebra_L3", "vertebra_L4", "vertebra_L5", "sacrum"},
        {"vertebra_T12", "vertebra_L1", "vertebra_L2", "sacrum"}};
    for (std::size_t run = 0; run < runs.size(); ++run) {
        const fs::path seg = dir.path() / ("auto" + std::to_string(run) + ".dcm");
        std::vector<std::string> arguments = {"segment",
                                              "--image",
                                              image,
                                              "--out",
                                              (dir.path() / ("auto" + std::to_string(run) + ".seg.nrrd")).string(),
                                              "--only",
                                              "vertebrae",
                                              "--seg-dicom",
                                              seg.string()};
        if (run == 1) {
            arguments.push_back("--lowest-lumbar");
            arguments.push_back("L2");
        }
        const auto segmented = np::test::runCli(arguments);
        ASSERT_EQ(segmented.exitCode, 0) << segmented.err;

        bool ran = false;
        const auto segments = dumpSegments(seg, ran);
        if (!ran)
            GTEST_SKIP() << "dcmdump (Debian package dcmtk) is not installed";
        for (const std::string& name : runs[run]) {
            const auto found = std::find_if(segments.begin(), segments.end(),
                                            [&](const DumpedSegment& s) { return s.label == name; });
            ASSERT_NE(found, segments.end()) << name << "\n" << segmented.out;
            EXPECT_EQ(found->category, "SCT:123037004") << name;
            EXPECT_EQ(found->type, levelCode.at(name)) << name;
            EXPECT_EQ(found->modifier, "") << name;
        }
        // No other vertebra is named (the phantom has no more levels).
        for (const DumpedSegment& s : segments)
            if (s.label.rfind("vertebra_", 0) == 0)
                EXPECT_NE(std::find(runs[run].begin(), runs[run].end(), s.label), runs[run].end()) << s.label;

        const auto verdict = np::test::runDciodvfy(seg);
        NP_SKIP_UNLESS_DCIODVFY_RAN(verdict);
        EXPECT_EQ(verdict.errorCount, 0) << verdict.errors;
    }
}

} // namespace
