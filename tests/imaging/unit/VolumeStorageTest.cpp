// Voxel storage of Volume / LabelMap (no zero-filling allocation, huge-page aligned large
// buffers, threaded fill) and the value range the DICOM loader finds while decoding.

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "TestSupport.h"
#include "needleplan/imaging/DicomSeriesWriter.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/Volume.h"

using namespace np::imaging;

namespace {

Geometry gridOf(std::int64_t i, std::int64_t j, std::int64_t k)
{
    Geometry geometry;
    geometry.size = {i, j, k};
    geometry.spacing = {0.7, 0.9, 2.5};
    return geometry;
}

bool alignedTo(const void* pointer, std::uintptr_t alignment)
{
    return reinterpret_cast<std::uintptr_t>(pointer) % alignment == 0;
}

} // namespace

TEST(VolumeStorage, NegativeSizeIsRejected)
{
    EXPECT_THROW(Volume(gridOf(4, -1, 2)), np::Error);
    EXPECT_THROW(Volume(gridOf(4, -1, 2), uninitializedVoxels), np::Error);
    EXPECT_THROW(LabelMap(gridOf(-3, 1, 2)), np::Error);
}

TEST(VolumeStorage, EmptyGridHasNoVoxels)
{
    const Volume volume(gridOf(0, 5, 5), 3.0f);
    EXPECT_TRUE(volume.empty());
    EXPECT_EQ(volume.voxels().size(), 0u);
}

TEST(VolumeStorage, SmallVolumeIsFilled)
{
    const Volume volume(gridOf(3, 2, 2), -7.5f);
    ASSERT_EQ(volume.voxels().size(), 12u);
    for (float value : volume.voxels())
        EXPECT_EQ(value, -7.5f);
    const LabelMap labels(gridOf(3, 2, 2));
    for (std::uint16_t value : labels.labels())
        EXPECT_EQ(value, 0u);
}

TEST(VolumeStorage, LargeVolumeIsFilledEverywhereAndHugePageAligned)
{
    // 160 x 160 x 101 floats = 9.9 MiB: mapped storage, filled by several threads, odd length so
    // the last thread's share is shorter.
    const Volume volume(gridOf(160, 160, 101), -1000.0f);
    ASSERT_EQ(volume.voxels().size(), 160u * 160u * 101u);
    EXPECT_TRUE(alignedTo(volume.data(), std::uintptr_t{2} << 20));
    std::size_t wrong = 0;
    for (float value : volume.voxels())
        wrong += value != -1000.0f ? 1 : 0;
    EXPECT_EQ(wrong, 0u);
    EXPECT_EQ(volume.at(159, 159, 100), -1000.0f);

    const LabelMap labels(gridOf(300, 200, 41)); // 4.7 MiB of 16-bit labels
    ASSERT_EQ(labels.labels().size(), 300u * 200u * 41u);
    EXPECT_TRUE(alignedTo(labels.data(), std::uintptr_t{2} << 20));
    std::size_t nonZero = 0;
    for (std::uint16_t value : labels.labels())
        nonZero += value != 0 ? 1 : 0;
    EXPECT_EQ(nonZero, 0u);
}

TEST(VolumeStorage, UninitialisedVolumeHasItsSizeAndTakesWrites)
{
    Volume volume(gridOf(128, 128, 70), uninitializedVoxels);
    ASSERT_EQ(volume.voxels().size(), 128u * 128u * 70u);
    for (std::size_t n = 0; n < volume.voxels().size(); ++n)
        volume.voxels()[n] = static_cast<float>(n % 1000);
    EXPECT_EQ(volume.at(5, 1, 0), 133.0f);   // 5 + 128 * 1
    EXPECT_EQ(volume.at(0, 0, 1), 384.0f);   // 16384 mod 1000
}

TEST(VolumeStorage, CopiesCompareEqualAndAreIndependent)
{
    Volume original(gridOf(200, 100, 60), 2.0f); // mapped storage
    original.at(7, 8, 9) = 11.0f;
    Volume copy = original;
    EXPECT_EQ(copy.voxels(), original.voxels());
    copy.at(7, 8, 9) = 12.0f;
    EXPECT_NE(copy.voxels(), original.voxels());
    EXPECT_EQ(original.at(7, 8, 9), 11.0f);

    LabelMap labels(gridOf(4, 1, 1));
    labels.labels() = {0, 4, 4, 9};
    LabelMap other = labels;
    EXPECT_EQ(other.labels(), labels.labels());
    const std::vector<std::uint16_t> plain(labels.labels().begin(), labels.labels().end());
    EXPECT_EQ(plain, (std::vector<std::uint16_t>{0, 4, 4, 9}));
}

TEST(VolumeStorage, VectorValueConstructionStillFills)
{
    // Only value-less construction skips the initialisation.
    const VoxelVector<float> filled(5000000, 1.5f);
    for (float value : filled)
        ASSERT_EQ(value, 1.5f);
    VoxelVector<std::uint16_t> assigned;
    assigned.assign(3000000, 7);
    for (std::uint16_t value : assigned)
        ASSERT_EQ(value, 7u);
}

TEST(VolumeStorage, DicomLoaderReportsTheDecodedValueRange)
{
    // Values i - 3 j + 100 k on a 8 x 6 x 4 grid: smallest at (0, 5, 0) = -15, largest at
    // (7, 0, 3) = 307.
    Geometry geometry = gridOf(8, 6, 4);
    Volume source(geometry);
    for (std::int64_t k = 0; k < 4; ++k)
        for (std::int64_t j = 0; j < 6; ++j)
            for (std::int64_t i = 0; i < 8; ++i)
                source.at(i, j, k) = static_cast<float>(i - 3 * j + 100 * k);
    np::test::TempDir dir;
    writeDicomSeries(source, dir.path().string());
    const Volume loaded = loadVolume(dir.path().string());
    ASSERT_EQ(loaded.voxels(), source.voxels());
    ASSERT_TRUE(loaded.info().hasValueRange);
    EXPECT_EQ(loaded.info().minimumValue, -15.0f);
    EXPECT_EQ(loaded.info().maximumValue, 307.0f);
}

TEST(VolumeStorage, ComparesWithPlainVectors)
{
    LabelMap labels(gridOf(3, 1, 1));
    labels.labels() = {2, 0, 5};
    EXPECT_EQ(labels.labels(), (std::vector<std::uint16_t>{2, 0, 5}));
    EXPECT_EQ((std::vector<std::uint16_t>{2, 0, 5}), labels.labels());
    EXPECT_NE(labels.labels(), (std::vector<std::uint16_t>{2, 0}));
    EXPECT_NE(labels.labels(), (std::vector<std::uint16_t>{2, 1, 5}));
    EXPECT_NE((std::vector<std::uint16_t>{2, 0, 6}), labels.labels());
}
