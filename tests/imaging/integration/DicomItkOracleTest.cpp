// ITK's own GDCM series reader as an independent oracle: for untilted, uniformly spaced series it
// must agree with the loader on geometry and voxels.

#include <gtest/gtest.h>

#include <itkGDCMImageIO.h>
#include <itkGDCMSeriesFileNames.h>
#include <itkImage.h>
#include <itkImageSeriesReader.h>

#include <cmath>
#include <filesystem>

#include "TestSupport.h"
#include "needleplan/imaging/DicomSeriesWriter.h"
#include "needleplan/imaging/ImageLoader.h"

namespace fs = std::filesystem;
using np::Mat3;
using np::Vec3;
using namespace np::imaging;

namespace {

using ItkImage = itk::Image<float, 3>;

ItkImage::Pointer readWithGdcm(const std::string& folder)
{
    auto names = itk::GDCMSeriesFileNames::New();
    names->SetUseSeriesDetails(false);
    names->SetDirectory(folder);
    const auto uids = names->GetSeriesUIDs();
    EXPECT_EQ(uids.size(), 1u) << folder;
    auto reader = itk::ImageSeriesReader<ItkImage>::New();
    reader->SetImageIO(itk::GDCMImageIO::New());
    reader->SetFileNames(names->GetFileNames(uids.front()));
    reader->Update();
    return reader->GetOutput();
}

/// Compares geometry and voxels; voxels the loader marked as padding (air) are not compared,
/// because GDCM leaves PixelPaddingValue as it is.
void expectSameAsGdcm(const Volume& ours, const ItkImage* theirs, bool hasPadding)
{
    const Geometry& g = ours.geometry();
    const auto size = theirs->GetLargestPossibleRegion().GetSize();
    for (unsigned a = 0; a < 3; ++a) {
        ASSERT_EQ(g.size[a], static_cast<std::int64_t>(size[a])) << "axis " << a;
        EXPECT_NEAR(g.spacing[static_cast<int>(a)], theirs->GetSpacing()[a], 1e-4) << "axis " << a;
        EXPECT_NEAR(g.originLps[static_cast<int>(a)], theirs->GetOrigin()[a], 1e-4) << "axis " << a;
        for (unsigned b = 0; b < 3; ++b)
            EXPECT_NEAR(g.directionLps(static_cast<int>(a), static_cast<int>(b)), theirs->GetDirection()[a][b], 1e-5);
    }
    const float* buffer = theirs->GetBufferPointer();
    std::size_t compared = 0;
    for (std::size_t n = 0; n < ours.voxels().size(); ++n) {
        if (hasPadding && ours.voxels()[n] == -1024.0f)
            continue;
        ASSERT_EQ(ours.voxels()[n], buffer[n]) << "voxel " << n;
        ++compared;
    }
    EXPECT_GT(compared, ours.voxels().size() / 2);
}

} // namespace

TEST(DicomItkOracle, ObliqueAnisotropicProneSeriesMatchesGdcm)
{
    Geometry geometry;
    geometry.size = {33, 21, 9};
    geometry.spacing = {0.55, 0.95, 1.8};
    geometry.originLps = {12.5, -40.25, 88.0};
    const double a = 0.35, b = -0.2;
    const Mat3 aboutS = Mat3::fromColumns({std::cos(a), std::sin(a), 0}, {-std::sin(a), std::cos(a), 0}, {0, 0, 1});
    const Mat3 aboutRow = Mat3::fromColumns({1, 0, 0}, {0, std::cos(b), std::sin(b)}, {0, -std::sin(b), std::cos(b)});
    const Mat3 prone = Mat3::fromColumns({-1, 0, 0}, {0, -1, 0}, {0, 0, 1});
    geometry.directionLps = prone * aboutS * aboutRow;
    Volume volume(geometry);
    for (std::size_t n = 0; n < volume.voxels().size(); ++n)
        volume.voxels()[n] = static_cast<float>(static_cast<int>((n * 7919) % 3000) - 1024);
    np::test::TempDir dir;
    DicomWriteOptions options;
    options.patientPosition = "HFP";
    options.rescaleSlope = 1.0;
    options.rescaleIntercept = -1024.0;
    writeDicomSeries(volume, dir.path().string(), options);
    const Volume ours = loadVolume(dir.path().string());
    expectSameAsGdcm(ours, readWithGdcm(dir.path().string()), false);
    EXPECT_EQ(ours.voxels(), volume.voxels());
}

TEST(DicomItkOracle, RealUntiltedCtSeriesMatchGdcm)
{
    NP_REQUIRE_REALDICOM();
    for (const char* folder : {"06_seg_ct_liver/ct", "07_rtstruct/rtutils_mock"}) {
        const std::string path = (np::test::realDicomDir() / folder).string();
        const Volume ours = loadVolume(path);
        EXPECT_TRUE(ours.info().warnings.empty()) << folder;
        expectSameAsGdcm(ours, readWithGdcm(path), true);
    }
}
