// Writing the phantom to disk: DICOM headers read back with DCMTK, the segmentation and targets
// read back through NeedlePlan's readers.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "TestSupport.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/LabelMapIO.h"
#include "needleplan/phantom/LumbarPhantom.h"

namespace {

using np::Vec3;
using np::phantom::PhantomOptions;

double ds(DcmDataset& dataset, const DcmTagKey& tag, unsigned long pos)
{
    Float64 value = 0.0;
    EXPECT_TRUE(dataset.findAndGetFloat64(tag, value, pos).good());
    return value;
}

TEST(PhantomFiles, ProneAnisotropicPhantomWritesConsistentFiles)
{
    np::test::TempDir dir;
    PhantomOptions options;
    options.spacing = {1.5, 2.0, 2.5};
    const auto phantom = np::phantom::generateLumbarPhantom(options);
    np::phantom::writePhantom(phantom, dir.path().string());

    const auto& g = phantom.ct.geometry();
    std::vector<std::filesystem::path> slices;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path() / "dicom"))
        slices.push_back(entry.path());
    std::sort(slices.begin(), slices.end());
    ASSERT_EQ(static_cast<std::int64_t>(slices.size()), g.size[2]);
    for (std::size_t k : {std::size_t{0}, slices.size() - 1}) {
        DcmFileFormat file;
        ASSERT_TRUE(file.loadFile(slices[k].string().c_str()).good());
        DcmDataset& d = *file.getDataset();
        OFString text;
        d.findAndGetOFString(DCM_PatientPosition, text);
        EXPECT_EQ(text, "HFP");
        d.findAndGetOFString(DCM_SOPClassUID, text);
        EXPECT_EQ(text, UID_CTImageStorage);
        // Prone: rows run to the patient's right, columns anterior.
        const double iop[6] = {-1, 0, 0, 0, -1, 0};
        for (unsigned long n = 0; n < 6; ++n)
            EXPECT_DOUBLE_EQ(ds(d, DCM_ImageOrientationPatient, n), iop[n]);
        EXPECT_DOUBLE_EQ(ds(d, DCM_PixelSpacing, 0), 2.0); // between rows (j) first
        EXPECT_DOUBLE_EQ(ds(d, DCM_PixelSpacing, 1), 1.5);
        const Vec3 positionLps = g.lpsFromIjk({0.0, 0.0, static_cast<double>(k)});
        for (unsigned long a = 0; a < 3; ++a)
            EXPECT_NEAR(ds(d, DCM_ImagePositionPatient, a), positionLps[static_cast<int>(a)], 1e-6);
        Uint16 rows = 0, columns = 0;
        d.findAndGetUint16(DCM_Rows, rows);
        d.findAndGetUint16(DCM_Columns, columns);
        EXPECT_EQ(rows, g.size[1]);
        EXPECT_EQ(columns, g.size[0]);
        // The stored voxel under the L4 body centre decodes to the volume's HU (rounded).
        const Vec3 ijk = g.ijkFromLps({0.0, 0.0, 37.0});
        if (std::llround(ijk.z) == static_cast<long long>(k)) {
            const Uint16* pixels = nullptr;
            ASSERT_TRUE(d.findAndGetUint16Array(DCM_PixelData, pixels).good());
            const auto i = std::llround(ijk.x), j = std::llround(ijk.y);
            EXPECT_NEAR(pixels[j * columns + i] - 1024.0, phantom.ct.at(i, j, static_cast<std::int64_t>(k)), 0.5);
        }
    }

    const auto labels = np::imaging::readLabelMap((dir.path() / "structures.seg.nrrd").string());
    EXPECT_EQ(labels.labels(), phantom.labels.labels());
    EXPECT_EQ(labels.segments().size(), phantom.labels.segments().size());
    ASSERT_NE(labels.findSegment("nerve_root_L4_left"), nullptr);
    EXPECT_EQ(labels.findSegment("nerve_root_L4_left")->labelValue,
              phantom.labels.findSegment("nerve_root_L4_left")->labelValue);
    for (int c = 0; c < 3; ++c) {
        EXPECT_NEAR(labels.geometry().originLps[c], g.originLps[c], 1e-9);
        for (int r = 0; r < 3; ++r)
            EXPECT_NEAR(labels.geometry().directionLps(r, c), g.directionLps(r, c), 1e-12);
    }

    const auto targets = np::phantom::readTargets((dir.path() / "targets.json").string());
    ASSERT_EQ(targets.size(), phantom.targets.size());
    for (std::size_t n = 0; n < targets.size(); ++n) {
        EXPECT_EQ(targets[n].name, phantom.targets[n].name);
        EXPECT_EQ(targets[n].kind, phantom.targets[n].kind);
        EXPECT_NEAR(distance(targets[n].positionLps, phantom.targets[n].positionLps), 0.0, 1e-9);
    }
}

TEST(PhantomFiles, RewritingReplacesTheOldSeries)
{
    np::test::TempDir dir;
    PhantomOptions options;
    options.spacing = {4.0, 4.0, 2.0};
    np::phantom::writePhantom(np::phantom::generateLumbarPhantom(options), dir.path().string());
    { std::ofstream(dir.path() / "dicom" / "notes.txt") << "kept"; }
    options.spacing = {4.0, 4.0, 4.0};
    const auto smaller = np::phantom::generateLumbarPhantom(options);
    np::phantom::writePhantom(smaller, dir.path().string());
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "dicom" / "notes.txt")); // not ours: kept
    std::int64_t files = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path() / "dicom"))
        ++files;
    EXPECT_EQ(files, smaller.ct.geometry().size[2] + 1);
}

TEST(PhantomFiles, MalformedTargetFilesAreErrorsNamingTheFile)
{
    np::test::TempDir dir;
    auto codeFor = [&](const std::string& text) {
        const auto path = dir.path() / "targets.json";
        std::ofstream(path) << text;
        try {
            np::phantom::readTargets(path.string());
        } catch (const np::Error& e) {
            EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos);
            return e.code();
        }
        ADD_FAILURE() << "accepted: " << text;
        return np::ErrorCode::Internal;
    };
    EXPECT_EQ(codeFor("{not json"), np::ErrorCode::CorruptData);
    EXPECT_EQ(codeFor("[]"), np::ErrorCode::CorruptData);
    EXPECT_EQ(codeFor(R"({"schema":"other/1","targets":[]})"), np::ErrorCode::CorruptData);
    EXPECT_EQ(codeFor(R"({"schema":"needleplan.targets/1","targets":[{"name":"a","positionLps":[1,2]}]})"),
              np::ErrorCode::CorruptData);
    EXPECT_EQ(codeFor(R"({"schema":"needleplan.targets/1","targets":[{"name":"a","positionLps":[1,"x",3]}]})"),
              np::ErrorCode::CorruptData);
    EXPECT_EQ(codeFor(R"({"schema":"needleplan.targets/1","targets":[{"positionLps":[1,2,3]}]})"),
              np::ErrorCode::CorruptData);
    EXPECT_EQ(codeFor(R"({"schema":"needleplan.targets/1","coordinateSystem":"RAS","targets":[]})"),
              np::ErrorCode::Unsupported);
    try {
        np::phantom::readTargets((dir.path() / "missing.json").string());
        ADD_FAILURE();
    } catch (const np::Error& e) {
        EXPECT_EQ(e.code(), np::ErrorCode::NotFound);
    }
}

TEST(PhantomFiles, TheBuildGeneratedTheDefaultPhantom)
{
    const std::filesystem::path folder = NP_PHANTOM_DIR;
    if (!std::filesystem::exists(folder / "targets.json"))
        GTEST_SKIP() << "the default phantom was not generated by this build (NP_GENERATE_PHANTOM=OFF?): " << folder;
    const auto targets = np::phantom::readTargets((folder / "targets.json").string());
    EXPECT_GE(targets.size(), 20u);
    EXPECT_TRUE(std::filesystem::exists(folder / "structures.seg.nrrd"));
    EXPECT_TRUE(std::filesystem::is_directory(folder / "dicom"));
}

} // namespace
