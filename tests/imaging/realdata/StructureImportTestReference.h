#pragma once
// Reference CT headers for the structure-import tests, read with DCMTK independently of the
// project's loader (placing structures needs the grid and UIDs, not the pixels).

#include "needleplan/imaging/Volume.h"

#include <algorithm>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace np::imaging::testref {

// The CT slices' grid and UIDs, read here with DCMTK independently of the project's loader
// (pixels are not needed for placing structures).
inline Volume referenceFromSlices(const std::vector<std::filesystem::path>& files)
{
    struct Slice
    {
        Vec3 positionLps;
        std::string sop;
    };
    std::vector<Slice> slices;
    Vec3 row, column;
    double spacingRow = 0, spacingColumn = 0;
    Uint16 rows = 0, columns = 0;
    VolumeInfo info;
    for (const auto& file : files) {
        DcmFileFormat format;
        EXPECT_TRUE(format.loadFile(file.string().c_str()).good()) << file;
        DcmDataset& d = *format.getDataset();
        Float64 v[6];
        for (unsigned long n = 0; n < 6; ++n)
            d.findAndGetFloat64(DCM_ImageOrientationPatient, v[n], n);
        row = {v[0], v[1], v[2]};
        column = {v[3], v[4], v[5]};
        Slice s;
        for (unsigned long n = 0; n < 3; ++n)
            d.findAndGetFloat64(DCM_ImagePositionPatient, v[n], n);
        s.positionLps = {v[0], v[1], v[2]};
        d.findAndGetFloat64(DCM_PixelSpacing, spacingRow, 0);
        d.findAndGetFloat64(DCM_PixelSpacing, spacingColumn, 1);
        d.findAndGetUint16(DCM_Rows, rows);
        d.findAndGetUint16(DCM_Columns, columns);
        OFString text;
        d.findAndGetOFString(DCM_SOPInstanceUID, text);
        s.sop = text.c_str();
        d.findAndGetOFString(DCM_SeriesInstanceUID, text);
        info.seriesUid = text.c_str();
        d.findAndGetOFString(DCM_FrameOfReferenceUID, text);
        info.frameOfReferenceUid = text.c_str();
        slices.push_back(s);
    }
    const Vec3 normal = normalized(cross(row, column));
    std::sort(slices.begin(), slices.end(), [&](const Slice& a, const Slice& b) {
        return dot(a.positionLps, normal) < dot(b.positionLps, normal);
    });
    Geometry g;
    g.size = {columns, rows, static_cast<std::int64_t>(slices.size())};
    // PixelSpacing is (between rows, between columns): the i step is the second value.
    g.spacing = {spacingColumn, spacingRow,
                 slices.size() > 1 ? dot(slices[1].positionLps - slices[0].positionLps, normal) : 1.0};
    g.originLps = slices.front().positionLps;
    g.directionLps = directionFromOrientation(row, column);
    Volume volume(g, 0.0f);
    volume.info() = info;
    for (const auto& s : slices)
        volume.info().sliceSopInstanceUids.push_back(s.sop);
    return volume;
}

} // namespace np::imaging::testref
