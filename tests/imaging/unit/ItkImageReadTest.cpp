// NRRD / NIfTI / MetaImage reading against images written by ITK's own writers: every voxel's value
// and its LPS position (from ITK's TransformIndexToPhysicalPoint, independent of the reader) agree.

#include <gtest/gtest.h>

#include <itkImage.h>
#include <itkImageFileWriter.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <unistd.h>

#include "TestSupport.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"

using namespace np::imaging;
using np::Error;
using np::ErrorCode;
using np::Vec3;

namespace {

template <typename Pixel>
typename itk::Image<Pixel, 3>::Pointer obliqueAnisotropic()
{
    using Image = itk::Image<Pixel, 3>;
    auto image = Image::New();
    typename Image::SizeType size{{7, 5, 4}};
    image->SetRegions(typename Image::RegionType(size));
    image->Allocate();
    const double spacing[3] = {0.7, 1.3, 2.5};
    image->SetSpacing(spacing);
    const double origin[3] = {-31.5, 12.25, 80.0};
    image->SetOrigin(origin);
    // A rotation of 20 degrees about the patient's S axis, then 10 degrees about L (a tilted, oblique grid).
    const double a = 20.0 * M_PI / 180.0, b = 10.0 * M_PI / 180.0;
    typename Image::DirectionType rz, rx;
    rz.SetIdentity();
    rz[0][0] = std::cos(a), rz[0][1] = -std::sin(a), rz[1][0] = std::sin(a), rz[1][1] = std::cos(a);
    rx.SetIdentity();
    rx[1][1] = std::cos(b), rx[1][2] = -std::sin(b), rx[2][1] = std::sin(b), rx[2][2] = std::cos(b);
    image->SetDirection(rz * rx);
    for (unsigned k = 0; k < 4; ++k)
        for (unsigned j = 0; j < 5; ++j)
            for (unsigned i = 0; i < 7; ++i)
                image->SetPixel({{i, j, k}}, static_cast<Pixel>(static_cast<int>(i) - 3 * static_cast<int>(j) +
                                                                 11 * static_cast<int>(k) - 40));
    return image;
}

template <typename Pixel>
void expectSameImage(const std::string& path, bool compress)
{
    using Image = itk::Image<Pixel, 3>;
    const typename Image::Pointer written = obliqueAnisotropic<Pixel>();
    auto writer = itk::ImageFileWriter<Image>::New();
    writer->SetInput(written);
    writer->SetFileName(path);
    writer->SetUseCompression(compress);
    writer->Update();

    const Volume read = loadVolume(path);
    ASSERT_EQ(read.geometry().size[0], 7);
    ASSERT_EQ(read.geometry().size[1], 5);
    ASSERT_EQ(read.geometry().size[2], 4);
    for (unsigned k = 0; k < 4; ++k)
        for (unsigned j = 0; j < 5; ++j)
            for (unsigned i = 0; i < 7; ++i) {
                const typename Image::IndexType index{{i, j, k}};
                EXPECT_EQ(read.at(i, j, k), static_cast<float>(written->GetPixel(index))) << path;
                typename Image::PointType expected;
                written->TransformIndexToPhysicalPoint(index, expected);
                const Vec3 lps = read.geometry().lpsFromIjk(Vec3{double(i), double(j), double(k)});
                for (int a = 0; a < 3; ++a)
                    EXPECT_NEAR(lps[a], expected[static_cast<unsigned>(a)], 1e-4) << path << " axis " << a;
            }
}

} // namespace

TEST(ItkImageRead, Int16GzipNrrdObliqueAnisotropic)
{
    np::test::TempDir dir("np-itkread");
    expectSameImage<std::int16_t>((dir.path() / "ct.nrrd").string(), true);
}

TEST(ItkImageRead, Uint8RawMetaImage)
{
    np::test::TempDir dir("np-itkread");
    expectSameImage<std::uint8_t>((dir.path() / "labels.mha").string(), false);
}

TEST(ItkImageRead, DoubleGzipNifti)
{
    np::test::TempDir dir("np-itkread");
    expectSameImage<double>((dir.path() / "ct.nii.gz").string(), true);
}

TEST(ItkImageRead, FloatNrrdIsReadStraightIn)
{
    np::test::TempDir dir("np-itkread");
    expectSameImage<float>((dir.path() / "ct.nrrd").string(), false);
}

TEST(ItkImageRead, MemoryForFileBufferAndVolumeIsCheckedBeforeReading)
{
    // 200 x 200 x 100 int16 voxels: 8 MB of file buffer plus 16 MB of float volume.
    np::test::TempDir dir("np-itkread");
    const auto path = dir.path() / "big.nrrd";
    std::ofstream(path) << "NRRD0004\ntype: short\ndimension: 3\nsizes: 200 200 100\nencoding: gzip\n"
                           "endian: little\n\n";
    LoadOptions options;
    options.memoryCapBytes = 20ull << 20; // holds the volume (16 MB) but not the volume and the buffer
    try {
        loadVolume(path.string(), options);
        FAIL() << "a 24 MB read under a 20 MiB cap was accepted";
    } catch (const Error& error) {
        EXPECT_EQ(error.code(), ErrorCode::TooLarge);
        EXPECT_NE(std::string(error.what()).find(path.string()), std::string::npos) << error.what();
        EXPECT_NE(std::string(error.what()).find("memory cap"), std::string::npos) << error.what();
    }
}

TEST(ItkImageRead, EffectiveCapNeverExceedsTheRequestOrThreeQuartersOfMemory)
{
    EXPECT_EQ(effectiveMemoryCap(1ull << 20), 1ull << 20);
    const long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
    ASSERT_GT(pages, 0);
    const std::uint64_t physical = static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(pageSize);
    EXPECT_LE(effectiveMemoryCap(~0ull), physical / 4 * 3 + static_cast<std::uint64_t>(pageSize));
}
