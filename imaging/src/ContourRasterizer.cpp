#include "needleplan/imaging/ContourRasterizer.h"

#include "needleplan/imaging/Error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace np::imaging {

void fillPolygonsEvenOdd(const std::vector<std::vector<std::array<double, 2>>>& polygonsIj,
                         std::int64_t sizeI, std::int64_t sizeJ, std::uint8_t* slice)
{
    if (sizeI <= 0 || sizeJ <= 0)
        return;
    double minJ = std::numeric_limits<double>::infinity(), maxJ = -std::numeric_limits<double>::infinity();
    for (const auto& polygon : polygonsIj)
        for (const auto& p : polygon) {
            minJ = std::min(minJ, p[1]);
            maxJ = std::max(maxJ, p[1]);
        }
    if (!(minJ <= maxJ))
        return;
    const auto firstRow = static_cast<std::int64_t>(std::max(0.0, std::ceil(minJ)));
    const auto lastRow = static_cast<std::int64_t>(std::min(double(sizeJ - 1), std::floor(maxJ)));
    std::vector<double> crossings;
    for (std::int64_t j = firstRow; j <= lastRow; ++j) {
        const double y = static_cast<double>(j);
        crossings.clear();
        for (const auto& polygon : polygonsIj) {
            const std::size_t n = polygon.size();
            for (std::size_t e = 0; e < n; ++e) {
                const auto& a = polygon[e];
                const auto& b = polygon[(e + 1) % n];
                // Half-open rule: a vertex exactly on the row counts for the edge going up only.
                if ((a[1] <= y) != (b[1] <= y))
                    crossings.push_back(a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]));
            }
        }
        std::sort(crossings.begin(), crossings.end());
        for (std::size_t c = 0; c + 1 < crossings.size(); c += 2) {
            // Centres i with crossings[c] <= i < crossings[c + 1].
            const double from = std::max(0.0, std::ceil(crossings[c]));
            const double to = std::min(double(sizeI), std::ceil(crossings[c + 1]));
            for (auto i = static_cast<std::int64_t>(from); i < static_cast<std::int64_t>(to); ++i)
                slice[i + sizeI * j] = 1;
        }
    }
}

RasterizeReport rasterizeContours(const std::vector<std::vector<Vec3>>& contoursLps, const Geometry& grid,
                                  std::vector<std::uint8_t>& mask)
{
    grid.validate("contour rasterisation grid");
    if (mask.size() != static_cast<std::size_t>(grid.voxelCount()))
        throw Error(ErrorCode::InvalidArgument, "contour rasterisation: the mask does not match the grid");
    RasterizeReport report;
    std::map<std::int64_t, std::vector<std::vector<std::array<double, 2>>>> polygonsOfSlice;
    for (const auto& contour : contoursLps) {
        bool finite = contour.size() >= 3;
        for (const Vec3& p : contour)
            finite = finite && std::isfinite(p.x) && std::isfinite(p.y) && std::isfinite(p.z);
        if (!finite) {
            ++report.degenerate;
            continue;
        }
        std::vector<std::array<double, 2>> polygonIj;
        polygonIj.reserve(contour.size());
        double minK = std::numeric_limits<double>::infinity(),
               maxK = -std::numeric_limits<double>::infinity(), sumK = 0.0;
        for (const Vec3& p : contour) {
            const Vec3 ijk = grid.ijkFromLps(p);
            polygonIj.push_back({ijk.x, ijk.y});
            minK = std::min(minK, ijk.z);
            maxK = std::max(maxK, ijk.z);
            sumK += ijk.z;
        }
        if (maxK - minK > 0.5) {
            ++report.notInPlane;
            continue;
        }
        const double meanK = sumK / double(contour.size());
        const double nearestK = std::round(meanK);
        if (std::abs(meanK - nearestK) > 0.25 || nearestK < 0.0 || nearestK > double(grid.size[2] - 1)) {
            ++report.offGrid;
            continue;
        }
        polygonsOfSlice[static_cast<std::int64_t>(nearestK)].push_back(std::move(polygonIj));
        ++report.used;
    }
    const std::int64_t sliceVoxels = grid.size[0] * grid.size[1];
    std::vector<std::uint8_t> filled(static_cast<std::size_t>(sliceVoxels));
    for (const auto& [k, polygons] : polygonsOfSlice) {
        std::fill(filled.begin(), filled.end(), 0);
        fillPolygonsEvenOdd(polygons, grid.size[0], grid.size[1], filled.data());
        std::uint8_t* out = mask.data() + k * sliceVoxels;
        for (std::int64_t v = 0; v < sliceVoxels; ++v)
            out[v] = out[v] || filled[static_cast<std::size_t>(v)];
    }
    return report;
}

} // namespace np::imaging
