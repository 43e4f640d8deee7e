// needleplan-cli on hostile and broken inputs: the fuzzing reproducers in tests/data/crashers and
// variants of each class (other depths, sizes, token lengths, encodings, formats). Every one must
// end with exit code 2 and one line on stderr naming the file, quickly, without a crash.

#include "CliRunner.h"
#include "TestSupport.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>
#include <zlib.h>

namespace fs = std::filesystem;

namespace {

const fs::path kCrashers = NP_CRASHERS_DIR;

int lineCount(const std::string& text)
{
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

/// Exit 2, one line on stderr that names `named`.
void expectBadInput(const np::test::CliResult& result, const std::string& named)
{
    EXPECT_EQ(result.exitCode, 2) << result.err;
    EXPECT_EQ(lineCount(result.err), 1) << result.err;
    EXPECT_NE(result.err.find(named), std::string::npos) << result.err;
}

np::test::CliLimits limits(unsigned seconds)
{
    np::test::CliLimits l;
    l.timeoutSeconds = seconds;
    return l;
}

fs::path phantomDir()
{
    return np::test::binaryDir() / "sample-data" / "phantom";
}

#define NP_REQUIRE_PHANTOM()                                                                                 \
    do {                                                                                                     \
        if (!fs::exists(phantomDir() / "dicom"))                                                             \
            GTEST_SKIP() << "sample phantom not generated at " << phantomDir()                               \
                         << " (build np_sample_phantom)";                                                    \
    } while (0)

void writeFile(const fs::path& path, const std::string& bytes)
{
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// ---------------------------------------------------------------------------------------------
// DICOM files written byte by byte (PS3.5 section 7), independent of the code under test.

enum class Syntax
{
    ExplicitLittle,
    ImplicitLittle,
    ExplicitBig,
    Deflated,
};

struct Bytes
{
    bool big = false;
    std::string data;
    void u16(std::uint16_t v)
    {
        const char b[2] = {static_cast<char>(big ? v >> 8 : v & 0xFF),
                           static_cast<char>(big ? v & 0xFF : v >> 8)};
        data.append(b, 2);
    }
    void u32(std::uint32_t v)
    {
        for (int n = 0; n < 4; ++n)
            data.push_back(static_cast<char>(big ? (v >> (8 * (3 - n))) & 0xFF : (v >> (8 * n)) & 0xFF));
    }
    void tag(std::uint16_t group, std::uint16_t element)
    {
        u16(group);
        u16(element);
    }
};

/// An element with a short VR (explicit) or 4-byte length (implicit); value padded to even length.
void element(Bytes& out, bool explicitVr, std::uint16_t group, std::uint16_t element, const char* vr,
             std::string value)
{
    if (value.size() % 2)
        value.push_back(std::string(vr) == "UI" ? '\0' : ' ');
    out.tag(group, element);
    if (explicitVr) {
        out.data.append(vr, 2);
        out.u16(static_cast<std::uint16_t>(value.size()));
    } else {
        out.u32(static_cast<std::uint32_t>(value.size()));
    }
    out.data += value;
}

/// A secondary-capture-like object whose private sequence (0009,1010) nests `depth` items deep,
/// with undefined lengths (sequence and item delimiters) or defined lengths.
std::string nestedDicom(Syntax syntax, int depth, bool definedLengths)
{
    const bool explicitVr = syntax != Syntax::ImplicitLittle;
    Bytes dataset;
    dataset.big = syntax == Syntax::ExplicitBig;
    element(dataset, explicitVr, 0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.7");
    element(dataset, explicitVr, 0x0008, 0x0018, "UI", "1.2.826.0.1.3680043.9.7777.99.1");
    element(dataset, explicitVr, 0x0008, 0x0060, "CS", "OT");
    element(dataset, explicitVr, 0x0009, 0x0010, "LO", "NP TEST");
    // Outermost level first. With defined lengths, the item at nesting level L (0 innermost) holds
    // the levels inside it: inner(L) = L * (sequence header + item header) bytes.
    const std::uint32_t sequenceHeader = explicitVr ? 12 : 8, itemHeader = 8;
    std::string inner;
    for (int level = depth - 1; level >= 0; --level) {
        const auto content = static_cast<std::uint32_t>(level) * (sequenceHeader + itemHeader);
        Bytes open;
        open.big = dataset.big;
        open.tag(0x0009, 0x1010);
        if (explicitVr) {
            open.data += "SQ";
            open.u16(0);
        }
        open.u32(definedLengths ? content + itemHeader : 0xFFFFFFFF);
        open.tag(0xFFFE, 0xE000);
        open.u32(definedLengths ? content : 0xFFFFFFFF);
        inner += open.data;
    }
    if (!definedLengths) {
        Bytes close;
        close.big = dataset.big;
        close.tag(0xFFFE, 0xE00D);
        close.u32(0);
        close.tag(0xFFFE, 0xE0DD);
        close.u32(0);
        for (int level = 0; level < depth; ++level)
            inner += close.data;
    }
    dataset.data += inner;
    element(dataset, explicitVr, 0x0020, 0x000D, "UI", "1.2.826.0.1.3680043.9.7777.99.2");
    element(dataset, explicitVr, 0x0020, 0x000E, "UI", "1.2.826.0.1.3680043.9.7777.99.3");

    const char* syntaxUid = syntax == Syntax::ImplicitLittle ? "1.2.840.10008.1.2"
                            : syntax == Syntax::ExplicitBig  ? "1.2.840.10008.1.2.2"
                            : syntax == Syntax::Deflated     ? "1.2.840.10008.1.2.1.99"
                                                             : "1.2.840.10008.1.2.1";
    Bytes meta;
    element(meta, true, 0x0002, 0x0002, "UI", "1.2.840.10008.5.1.4.1.1.7");
    element(meta, true, 0x0002, 0x0003, "UI", "1.2.826.0.1.3680043.9.7777.99.1");
    element(meta, true, 0x0002, 0x0010, "UI", syntaxUid);
    Bytes group;
    group.tag(0x0002, 0x0000);
    group.data += "UL";
    group.u16(4);
    group.u32(static_cast<std::uint32_t>(meta.data.size()));

    std::string body = dataset.data;
    if (syntax == Syntax::Deflated) {
        // Raw deflate (no zlib header), as PS3.5 A.5 asks.
        z_stream stream{};
        deflateInit2(&stream, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
        std::string packed(deflateBound(&stream, static_cast<uLong>(body.size())) + 16, '\0');
        stream.next_in = reinterpret_cast<Bytef*>(body.data());
        stream.avail_in = static_cast<uInt>(body.size());
        stream.next_out = reinterpret_cast<Bytef*>(packed.data());
        stream.avail_out = static_cast<uInt>(packed.size());
        deflate(&stream, Z_FINISH);
        packed.resize(stream.total_out);
        deflateEnd(&stream);
        body = packed;
    }
    return std::string(128, '\0') + "DICM" + group.data + meta.data + body;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Deeply nested sequences (DCMTK 3.6.7 recurses once per level and has no limit).

TEST(MalformedInput, NestedSequenceReproducerIsBadInputForInfoAndConvert)
{
    const std::string file = (kCrashers / "nested_sequences_depth6000.dcm").string();
    expectBadInput(np::test::runCli({"info", file, "--json"}, limits(120)), file);
    np::test::TempDir out("np-malformed");
    expectBadInput(
        np::test::runCli({"convert", file, "--out", (out.path() / "x.nrrd").string()}, limits(120)), file);
    EXPECT_FALSE(fs::exists(out.path() / "x.nrrd"));
}

TEST(MalformedInput, NestedSequenceAsStructureFileIsBadInput)
{
    NP_REQUIRE_PHANTOM();
    const std::string file = (kCrashers / "nested_sequences_depth6000.dcm").string();
    np::test::TempDir out("np-malformed");
    expectBadInput(
        np::test::runCli({"structures", "import", file, "--reference", (phantomDir() / "dicom").string(),
                          "--out", (out.path() / "x.seg.nrrd").string()},
                         limits(120)),
        file);
}

TEST(MalformedInput, NestedSequenceFileInCtFolderIsSkippedAndTheSeriesStillLoads)
{
    NP_REQUIRE_PHANTOM();
    np::test::TempDir folder("np-malformed");
    std::size_t slices = 0;
    for (const auto& entry : fs::directory_iterator(phantomDir() / "dicom")) {
        fs::copy_file(entry.path(), folder.path() / entry.path().filename());
        ++slices;
    }
    const fs::path bad = folder.path() / "zz_nested.dcm";
    fs::copy_file(kCrashers / "nested_sequences_depth6000.dcm", bad);
    const auto result = np::test::runCli({"info", folder.path().string(), "--json"}, limits(120));
    ASSERT_EQ(result.exitCode, 0) << result.err;
    EXPECT_NE(result.out.find("\"skipped\""), std::string::npos);
    EXPECT_NE(result.out.find("zz_nested.dcm"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("nested"), std::string::npos) << result.out;
    // The phantom's series is still listed, with all its slices.
    const auto listing = nlohmann::json::parse(result.out);
    ASSERT_EQ(listing["series"].size(), 1u) << result.out;
    EXPECT_EQ(listing["series"][0]["size"][2].get<std::size_t>(), slices);
    // convert loads the CT from the same folder.
    const auto converted = np::test::runCli(
        {"convert", folder.path().string(), "--out", (folder.path() / "ct.nrrd").string()}, limits(120));
    EXPECT_EQ(converted.exitCode, 0) << converted.err;
    EXPECT_TRUE(fs::exists(folder.path() / "ct.nrrd"));
    EXPECT_GT(slices, 1u);
}

TEST(MalformedInput, NestedSequencesOfEveryEncodingAndDepthAreRefusedBeforeParsing)
{
    np::test::TempDir folder("np-malformed");
    struct Case
    {
        Syntax syntax;
        int depth;
        bool defined;
        const char* name;
    };
    const Case cases[] = {
        {Syntax::ExplicitLittle, 100000, false, "explicit-undefined.dcm"},
        {Syntax::ImplicitLittle, 20000, false, "implicit-undefined.dcm"},
        {Syntax::ExplicitBig, 20000, false, "big-undefined.dcm"},
        {Syntax::Deflated, 50000, false, "deflated-undefined.dcm"},
        {Syntax::ExplicitLittle, 20000, true, "explicit-defined.dcm"},
        {Syntax::ImplicitLittle, 20000, true, "implicit-defined.dcm"},
        {Syntax::ExplicitLittle, 65, false, "explicit-65.dcm"},
    };
    for (const Case& c : cases) {
        const fs::path file = folder.path() / c.name;
        writeFile(file, nestedDicom(c.syntax, c.depth, c.defined));
        const auto result = np::test::runCli({"info", file.string()}, limits(120));
        SCOPED_TRACE(c.name);
        expectBadInput(result, file.string());
        EXPECT_NE(result.err.find("nested"), std::string::npos) << result.err;
    }
}

TEST(MalformedInput, ShallowNestingIsStillRead)
{
    // 64 levels are allowed: the file is read (and skipped as an image without pixels), not refused.
    np::test::TempDir folder("np-malformed");
    const fs::path file = folder.path() / "explicit-64.dcm";
    writeFile(file, nestedDicom(Syntax::ExplicitLittle, 64, false));
    const auto result = np::test::runCli({"info", file.string()}, limits(120));
    EXPECT_EQ(result.err.find("nested"), std::string::npos) << result.err;
    EXPECT_NE((result.out + result.err).find("no image pixel description"), std::string::npos)
        << result.out << result.err;
}

// ---------------------------------------------------------------------------------------------
// NRRD / NIfTI / MetaImage headers checked before ITK reads them.

TEST(MalformedInput, AsciiNrrdWithLongTokenIsBadInputNotAStackSmash)
{
    const std::string file = (kCrashers / "nrrd_ascii_long_token.nrrd").string();
    expectBadInput(np::test::runCli({"info", file}, limits(60)), file);
}

TEST(MalformedInput, LongNrrdFieldLinesAreBadInputNotAStackSmash)
{
    // NrrdIO quotes a line it cannot parse into a 1 KiB stack buffer: an unknown field or a known
    // field with an unparsable value, over 1 KiB long, aborted the program (found by LabelMapFuzzer).
    NP_REQUIRE_PHANTOM();
    const std::string unknown = (kCrashers / "nrrd_unknown_field_1600_bytes.seg.nrrd").string();
    expectBadInput(np::test::runCli({"info", unknown}, limits(60)), unknown);
    const std::string kinds = (kCrashers / "nrrd_kinds_line_2000_bytes.nrrd").string();
    expectBadInput(np::test::runCli({"info", kinds}, limits(60)), kinds);
    np::test::TempDir folder("np-malformed");
    const std::string header = "NRRD0004\ntype: unsigned char\ndimension: 3\nsizes: 2 2 2\nencoding: raw\n";
    const std::string reference = (phantomDir() / "dicom").string();
    for (const char* field : {"spacings", "space directions", "space origin", "labels", "Sizes"}) {
        for (const std::size_t length : {std::size_t{1100}, std::size_t{5000}}) {
            const fs::path file = folder.path() / (std::string("long-") + std::to_string(length) + ".seg.nrrd");
            writeFile(file, header + field + ": " + std::string(length, 'x') + "\n\n" + std::string(8, '\0'));
            const auto result = np::test::runCli({"structures", "import", file.string(), "--reference", reference,
                                                  "--out", (folder.path() / "o.seg.nrrd").string()},
                                                 limits(60));
            SCOPED_TRACE(std::string(field) + " " + std::to_string(length));
            expectBadInput(result, file.string());
        }
    }
    // A NUL byte ends NrrdIO's line: the long start of a key:=value line then read as an unknown field.
    const fs::path nul = folder.path() / "nul.seg.nrrd";
    writeFile(nul, header + "Segment28_Name" + std::string(1500, 'U') + std::string(1, '\0') +
                       std::string(1500, 'U') + ":=0\n\n" + std::string(8, '\0'));
    expectBadInput(np::test::runCli({"info", nul.string()}, limits(60)), nul.string());
    // Key/value pairs and comments are free text of any length, and a header with a long one still reads.
    const fs::path fine = folder.path() / "long-keyvalue.nrrd";
    writeFile(fine, header + "# " + std::string(3000, 'c') + "\nSegment0_Tags:=" + std::string(3000, 't') +
                        "\n\n" + std::string(8, '\0'));
    const auto ok = np::test::runCli({"info", fine.string()}, limits(60));
    EXPECT_EQ(ok.exitCode, 0) << ok.err;
}

TEST(MalformedInput, AsciiTokensOfAnyLengthAndDetachedDataAreChecked)
{
    NP_REQUIRE_PHANTOM();
    np::test::TempDir folder("np-malformed");
    const std::string header = "NRRD0004\ntype: float\ndimension: 3\nsizes: 2 2 2\nencoding: ascii\n";
    const fs::path attached = folder.path() / "long.seg.nrrd";
    writeFile(attached, header + "\n1 2 3 " + std::string(5000, '7') + " 5 6 7 8\n");
    expectBadInput(np::test::runCli({"structures", "import", attached.string(), "--reference",
                                     (phantomDir() / "dicom").string(), "--out",
                                     (folder.path() / "o.seg.nrrd").string()},
                                    limits(60)),
                   attached.string());
    const fs::path detached = folder.path() / "detached.nhdr";
    writeFile(folder.path() / "detached.txt", "1 2 3 4 5 6 7 " + std::string(1100, '1') + "\n");
    writeFile(detached, header + "data file: detached.txt\n\n");
    expectBadInput(np::test::runCli({"info", detached.string()}, limits(60)), detached.string());
    // An honest ASCII NRRD still reads.
    const fs::path fine = folder.path() / "fine.nrrd";
    writeFile(fine, header + "\n1 2 3 4 5 6 7 8\n");
    const auto ok = np::test::runCli({"info", fine.string()}, limits(60));
    EXPECT_EQ(ok.exitCode, 0) << ok.err;
}

TEST(MalformedInput, HugeLabelMapHeadersAreRefusedBeforeAllocating)
{
    NP_REQUIRE_PHANTOM();
    np::test::TempDir folder("np-malformed");
    const std::string reference = (phantomDir() / "dicom").string();
    const auto import = [&](const fs::path& file) {
        np::test::CliLimits l = limits(60);
        l.addressSpaceBytes = 3ull << 30; // far less than the headers ask for
        return np::test::runCli({"structures", "import", file.string(), "--reference", reference, "--out",
                                 (folder.path() / "o.seg.nrrd").string()},
                                l);
    };
    const std::string bomb = (kCrashers / "gzip_inflates_to_960MB.seg.nrrd").string();
    expectBadInput(import(bomb), bomb);

    const fs::path nrrd = folder.path() / "huge.nrrd";
    writeFile(nrrd, "NRRD0004\ntype: uint8\ndimension: 3\nsizes: 100000 100000 100000\nencoding: gzip\n\n");
    expectBadInput(import(nrrd), nrrd.string());

    const fs::path overflow = folder.path() / "overflow.nrrd";
    writeFile(overflow, "NRRD0004\ntype: double\ndimension: 3\nsizes: 4294967296 4294967296 4294967296\n"
                        "encoding: raw\nendian: little\n\n");
    expectBadInput(import(overflow), overflow.string());

    const fs::path meta = folder.path() / "huge.mha";
    writeFile(meta, "ObjectType = Image\nNDims = 3\nDimSize = 60000 60000 60000\nElementType = MET_USHORT\n"
                    "ElementDataFile = LOCAL\n");
    expectBadInput(import(meta), meta.string());

    // NIfTI-1: sizeof_hdr 348, dim = {3, 30000, 30000, 30000}, datatype int16 (bitpix 16), vox_offset 352.
    std::string nifti(352, '\0');
    const auto put16 = [&](std::size_t at, std::int16_t v) { std::memcpy(&nifti[at], &v, 2); };
    const std::int32_t headerSize = 348;
    std::memcpy(&nifti[0], &headerSize, 4);
    put16(40, 3);
    put16(42, 30000);
    put16(44, 30000);
    put16(46, 30000);
    put16(70, 4);
    put16(72, 16);
    const float offset = 352.0f;
    std::memcpy(&nifti[108], &offset, 4);
    std::memcpy(&nifti[344], "n+1\0", 4);
    const fs::path niftiFile = folder.path() / "huge.nii";
    writeFile(niftiFile, nifti);
    expectBadInput(import(niftiFile), niftiFile.string());
}

TEST(MalformedInput, NiftiOrientationWithNanOrInfinityIsBadInputNotAnAbort)
{
    // Found by LabelMapFuzzer: a NaN in srow_x made ITK's NIfTI reader abort inside vnl_svd.
    const std::string found = (kCrashers / "nifti_sform_not_finite.nii").string();
    expectBadInput(np::test::runCli({"info", found}, limits(60)), found);

    // The same class by hand: a 2 x 2 x 2 uint8 NIfTI-1 with an identity sform, then a NaN or an
    // infinity in each place ITK reads orientation from; the honest file still reads.
    np::test::TempDir folder("np-malformed");
    const auto niftiWith = [&](const std::string& name, int floatOffset, float value, std::int16_t qformCode,
                               std::int16_t sformCode) {
        std::string nifti(352 + 8, '\0');
        const auto put16 = [&](std::size_t at, std::int16_t v) { std::memcpy(&nifti[at], &v, 2); };
        const auto putF = [&](std::size_t at, float v) { std::memcpy(&nifti[at], &v, 4); };
        const std::int32_t headerSize = 348;
        std::memcpy(&nifti[0], &headerSize, 4);
        put16(40, 3);
        put16(42, 2);
        put16(44, 2);
        put16(46, 2);
        put16(70, 2); // uint8
        put16(72, 8);
        for (int i = 0; i < 4; ++i)
            putF(76 + 4 * i, 1.0f);
        putF(108, 352.0f);
        put16(252, qformCode);
        put16(254, sformCode);
        putF(280, 1.0f); // srow_x = 1 0 0 0
        putF(300, 1.0f); // srow_y = 0 1 0 0
        putF(320, 1.0f); // srow_z = 0 0 1 0
        std::memcpy(&nifti[344], "n+1\0", 4);
        if (floatOffset > 0)
            putF(static_cast<std::size_t>(floatOffset), value);
        const fs::path file = folder.path() / name;
        writeFile(file, nifti);
        return file.string();
    };
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    const std::string fine = niftiWith("fine.nii", 0, 0.0f, 0, 1);
    const auto ok = np::test::runCli({"info", fine}, limits(60));
    EXPECT_EQ(ok.exitCode, 0) << ok.err;
    const std::string srow = niftiWith("srow.nii", 284, nan, 0, 1);
    expectBadInput(np::test::runCli({"info", srow}, limits(60)), srow);
    const std::string quaternion = niftiWith("quatern.nii", 256, inf, 1, 0);
    expectBadInput(np::test::runCli({"info", quaternion}, limits(60)), quaternion);
    const std::string spacing = niftiWith("pixdim.nii", 84, nan, 1, 0);
    expectBadInput(np::test::runCli({"info", spacing}, limits(60)), spacing);
}

namespace {

/// A NIfTI-1 header (348 bytes and 4 of extension flags) for a uint8 image of sizes x*y*z.
std::string niftiHeader(std::int16_t x, std::int16_t y, std::int16_t z)
{
    std::string nifti(352, '\0');
    const auto put16 = [&](std::size_t at, std::int16_t v) { std::memcpy(&nifti[at], &v, 2); };
    const auto putF = [&](std::size_t at, float v) { std::memcpy(&nifti[at], &v, 4); };
    const std::int32_t headerSize = 348;
    std::memcpy(&nifti[0], &headerSize, 4);
    put16(40, 3);
    put16(42, x);
    put16(44, y);
    put16(46, z);
    put16(70, 2); // uint8
    put16(72, 8);
    for (int i = 0; i < 4; ++i)
        putF(76 + 4 * i, 1.0f);
    putF(108, 352.0f);
    std::memcpy(&nifti[344], "n+1", 3);
    return nifti;
}

/// `bytes` gzip-compressed, as `members` gzip members one after the other (as pigz or bgzip write).
std::string gzipped(const std::string& bytes, int members, const fs::path& scratch)
{
    std::string result;
    const std::size_t step = (bytes.size() + static_cast<std::size_t>(members) - 1) / static_cast<std::size_t>(members);
    for (std::size_t at = 0; at < bytes.size(); at += step) {
        gzFile out = gzopen(scratch.c_str(), "wb");
        const std::string part = bytes.substr(at, step);
        gzwrite(out, part.data(), static_cast<unsigned>(part.size()));
        gzclose(out);
        std::ifstream in(scratch, std::ios::binary);
        result += std::string(std::istreambuf_iterator<char>(in), {});
    }
    return result;
}

/// `info FILE` ends with bad input, saying the data is cut short and naming `holds` (the byte count).
void expectCutShort(const fs::path& file, const std::string& holds)
{
    const auto result = np::test::runCli({"info", file.string()}, limits(60));
    expectBadInput(result, file.string());
    EXPECT_NE(result.err.find("cut short"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find(holds), std::string::npos) << result.err;
}

} // namespace

TEST(MalformedInput, NiftiWithLessVoxelDataThanItsHeaderIsBadInput)
{
    // ITK 5.2 read these without a word and left the missing voxels zero: a label map cut short lost
    // part of its structures silently (found by LabelMapFuzzer as a 738-byte file read as 77 MB).
    np::test::TempDir folder("np-malformed");
    const std::string header = niftiHeader(100, 100, 100);
    std::string voxels(1000000, '\0');
    for (std::size_t i = 0; i < voxels.size(); i += 7)
        voxels[i] = 1;
    const fs::path scratch = folder.path() / "scratch.gz";
    const auto info = [&](const fs::path& file) { return np::test::runCli({"info", file.string()}, limits(60)); };

    const fs::path raw = folder.path() / "short.nii";
    writeFile(raw, header + voxels.substr(0, 100));
    expectCutShort(raw, "holds 452 bytes"); // 352 + 100, by hand
    const fs::path shortContent = folder.path() / "short-content.nii.gz";
    writeFile(shortContent, gzipped(header + voxels.substr(0, 5000), 1, scratch));
    expectCutShort(shortContent, "holds 5352 bytes");
    const std::string whole = gzipped(header + voxels, 1, scratch);
    const fs::path brokenStream = folder.path() / "broken-stream.nii.gz";
    writeFile(brokenStream, whole.substr(0, whole.size() / 2));
    expectCutShort(brokenStream, "breaks off");
    const fs::path oneShort = folder.path() / "one-byte-short.nii";
    writeFile(oneShort, header + voxels.substr(0, voxels.size() - 1));
    expectCutShort(oneShort, "holds 1000351 bytes");

    // Whole files read: plain, one gzip member, and three members (the inflated length in the last
    // member's trailer is not the file's).
    const fs::path plain = folder.path() / "whole.nii";
    writeFile(plain, header + voxels);
    const fs::path one = folder.path() / "whole.nii.gz";
    writeFile(one, whole);
    const fs::path three = folder.path() / "members.nii.gz";
    writeFile(three, gzipped(header + voxels, 3, scratch));
    for (const fs::path& file : {plain, one, three}) {
        const auto ok = info(file);
        EXPECT_EQ(ok.exitCode, 0) << file << ": " << ok.err;
        EXPECT_NE(ok.out.find("[100, 100, 100]"), std::string::npos) << ok.out;
    }
}

TEST(MalformedInput, MetaImageWithLessVoxelDataThanItsHeaderIsBadInput)
{
    // MetaIO read these with a warning on stderr ("data not read completely", "Uncompress failed") and
    // no error, leaving the missing voxels zero.
    np::test::TempDir folder("np-malformed");
    const std::string header = "ObjectType = Image\nNDims = 3\nDimSize = 100 100 100\nElementType = MET_UCHAR\n";
    std::string voxels(1000000, '\0');
    for (std::size_t i = 0; i < voxels.size(); i += 5)
        voxels[i] = 3;
    std::string deflated(compressBound(voxels.size()), '\0');
    uLongf deflatedSize = deflated.size();
    ASSERT_EQ(compress2(reinterpret_cast<Bytef*>(deflated.data()), &deflatedSize,
                        reinterpret_cast<const Bytef*>(voxels.data()), voxels.size(), 6),
              Z_OK);
    deflated.resize(deflatedSize);
    const auto info = [&](const fs::path& file) { return np::test::runCli({"info", file.string()}, limits(60)); };
    const fs::path raw = folder.path() / "short.mha";
    writeFile(raw, header + "ElementDataFile = LOCAL\n" + voxels.substr(0, 100));
    expectCutShort(raw, "holds 100 bytes");
    const fs::path broken = folder.path() / "broken.mha";
    writeFile(broken, header + "CompressedData = True\nElementDataFile = LOCAL\n" +
                          deflated.substr(0, deflated.size() / 2));
    expectCutShort(broken, "breaks off");
    writeFile(folder.path() / "short.raw", voxels.substr(0, 999999));
    const fs::path detached = folder.path() / "detached.mhd";
    writeFile(detached, header + "ElementDataFile = short.raw\n");
    expectCutShort(detached, "short.raw holds 999999 bytes");

    const fs::path whole = folder.path() / "whole.mha";
    writeFile(whole, header + "ElementDataFile = LOCAL\n" + voxels);
    const fs::path wholeCompressed = folder.path() / "whole-compressed.mha";
    writeFile(wholeCompressed, header + "CompressedData = True\nElementDataFile = LOCAL\n" + deflated);
    for (const fs::path& file : {whole, wholeCompressed}) {
        const auto ok = info(file);
        EXPECT_EQ(ok.exitCode, 0) << file << ": " << ok.err;
        EXPECT_NE(ok.out.find("[100, 100, 100]"), std::string::npos) << ok.out;
    }
}

TEST(MalformedInput, MetaImageWithARepeatedFieldIsBadInput)
{
    // Found by LabelMapFuzzer: a second "NDims = 777777777..." line made MetaIO read that many numbers
    // for the next array field (4 s for a 6 KB file) although the last NDims was a valid 3.
    np::test::TempDir folder("np-malformed");
    const std::string body = "DimSize = 4 3 2\nElementSpacing = 0.5 1.5 3\nElementType = MET_UCHAR\n"
                             "ElementDataFile = LOCAL\n" + std::string(24, '\1');
    const fs::path repeated = folder.path() / "repeated.mha";
    writeFile(repeated, "ObjectType = Image\nNDims = 777777777junk\nNDims = 3\n" + body);
    const auto result = np::test::runCli({"info", repeated.string()}, limits(60));
    expectBadInput(result, repeated.string());
    EXPECT_NE(result.err.find("line 3 repeats the field NDims"), std::string::npos) << result.err;
    const fs::path once = folder.path() / "once.mha";
    writeFile(once, "ObjectType = Image\nNDims = 3\n" + body);
    const auto ok = np::test::runCli({"info", once.string()}, limits(60));
    EXPECT_EQ(ok.exitCode, 0) << ok.err;
    EXPECT_NE(ok.out.find("[4, 3, 2]"), std::string::npos) << ok.out;
}

TEST(MalformedInput, NrrdReadErrorsAreOneLine)
{
    np::test::TempDir folder("np-malformed");
    const fs::path file = folder.path() / "no-endian.nrrd";
    writeFile(file, "NRRD0004\ntype: float\ndimension: 3\nsizes: 2 2 2\nencoding: gzip\n\nnot gzip");
    expectBadInput(np::test::runCli({"info", file.string()}, limits(60)), file.string());
    const fs::path truncated = folder.path() / "truncated.nrrd";
    writeFile(truncated,
              "NRRD0004\ntype: float\ndimension: 3\nsizes: 2 2 2\nencoding: raw\nendian: little\n\nabc");
    expectBadInput(np::test::runCli({"info", truncated.string()}, limits(60)), truncated.string());
}

TEST(MalformedInput, GzipBombVolumeIsRefusedByTheMemoryCapBeforeInflating)
{
    // The 945 KB file inflates to 960 MB of bytes, 4.6 GB once held as float voxels: under a 3 GiB
    // address space the cap (half of it) refuses it from the header, not after a failed allocation.
    const std::string bomb = (kCrashers / "gzip_inflates_to_960MB.seg.nrrd").string();
    np::test::CliLimits l = limits(60);
    l.addressSpaceBytes = 3ull << 30;
    for (const auto& args : {std::vector<std::string>{"info", bomb},
                             std::vector<std::string>{"convert", bomb, "--out", "/nonexistent-np/x.nrrd"}}) {
        const auto result = np::test::runCli(args, l);
        expectBadInput(result, bomb);
        EXPECT_NE(result.err.find("memory cap"), std::string::npos) << result.err;
    }
}

// ---------------------------------------------------------------------------------------------
// DICOM sizes and geometry.

TEST(MalformedInput, DicomClaimingMorePixelsThanItHoldsIsBadInputEvenWithLittleMemory)
{
    const std::string file = (kCrashers / "rows_columns_40000.dcm").string();
    np::test::CliLimits l = limits(60);
    l.addressSpaceBytes = 3ull << 30; // less than the 6.4 GB a 40000 x 40000 float slice needs
    expectBadInput(np::test::runCli({"info", file}, l), file);
    np::test::TempDir out("np-malformed");
    expectBadInput(np::test::runCli({"convert", file, "--out", (out.path() / "x.nrrd").string()}, l), file);
}

TEST(MalformedInput, ZeroOrientationNamesTheFile)
{
    const std::string file = (kCrashers / "orientation_all_zero.dcm").string();
    const auto result = np::test::runCli({"info", file}, limits(60));
    expectBadInput(result, file);
    EXPECT_NE(result.err.find("ImageOrientationPatient"), std::string::npos) << result.err;
}

// ---------------------------------------------------------------------------------------------
// Positions far outside the image.

TEST(MalformedInput, TargetsFileWithFarTargetNamesTheFileAndTheTarget)
{
    NP_REQUIRE_PHANTOM();
    const std::string file = (kCrashers / "targets_far_outside_image.json").string();
    np::test::TempDir out("np-malformed");
    const auto result =
        np::test::runCli({"plan", "--image", (phantomDir() / "dicom").string(), "--structures",
                          (phantomDir() / "structures.seg.nrrd").string(), "--target-name", "far",
                          "--targets", file, "--out", (out.path() / "p.json").string()},
                         limits(120));
    expectBadInput(result, file);
    EXPECT_NE(result.err.find("\"far\""), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(out.path() / "p.json"));
}

TEST(MalformedInput, CheckWithEntryOrTargetFarOutsideEndsWithBadInput)
{
    NP_REQUIRE_PHANTOM();
    const std::vector<std::string> base = {"check", "--image", (phantomDir() / "dicom").string(),
                                           "--structures", (phantomDir() / "structures.seg.nrrd").string()};
    const std::pair<std::string, std::string> cases[] = {
        {"1e308,1e308,1e308", "26.1,32.9,9.5"},
        {"-1e308,0,0", "26.1,32.9,9.5"},
        {"26.1,150,9.5", "1e9,32.9,9.5"},
        {"26.1,2000,9.5", "26.1,32.9,9.5"},
    };
    for (const auto& [entry, target] : cases) {
        auto arguments = base;
        arguments.insert(arguments.end(), {"--entry", entry, "--target", target});
        const auto result = np::test::runCli(arguments, limits(120)); // a hang ends with SIGALRM: 142
        SCOPED_TRACE(entry + " -> " + target);
        EXPECT_EQ(result.exitCode, 2) << result.err;
        EXPECT_EQ(lineCount(result.err), 1) << result.err;
        EXPECT_NE(result.err.find("outside the image"), std::string::npos) << result.err;
    }
}
