#include <gtest/gtest.h>

#include "TestSupport.h"
#include "needleplan/imaging/DicomScanner.h"
#include "needleplan/imaging/DicomSeriesWriter.h"
#include "needleplan/imaging/Volume.h"

namespace {
np::imaging::Volume smallVolume()
{
    np::imaging::Geometry geometry;
    geometry.size = {4, 3, 2};
    return np::imaging::Volume(geometry, 0.0f);
}
} // namespace

// SeriesDescription written by a Latin-1 scanner (ISO_IR 100): 0xBA is the masculine ordinal "º".
TEST(DicomTextEncoding, Latin1DescriptionArrivesAsUtf8)
{
    np::test::TempDir folder;
    np::imaging::DicomWriteOptions options;
    options.seriesDescription = "PHANTOM_\xBA" "XAMPLE";
    np::imaging::writeDicomSeries(smallVolume(), folder.path().string(), options);
    const auto scan = np::imaging::scanDicom(folder.path().string());
    ASSERT_EQ(scan.series.size(), 1u);
    EXPECT_EQ(scan.series[0].description, "PHANTOM_\xC2\xBA" "XAMPLE");
}

TEST(DicomTextEncoding, ValidUtf8DescriptionIsKeptAsIs)
{
    np::test::TempDir folder;
    np::imaging::DicomWriteOptions options;
    options.seriesDescription = "L\xC3\xA9sion \xE2\x80\x93 axial"; // "Lésion – axial"
    np::imaging::writeDicomSeries(smallVolume(), folder.path().string(), options);
    const auto scan = np::imaging::scanDicom(folder.path().string());
    ASSERT_EQ(scan.series.size(), 1u);
    EXPECT_EQ(scan.series[0].description, "L\xC3\xA9sion \xE2\x80\x93 axial");
}
