#include "SliceStacker.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <iomanip>
#include <mutex>
#include <numeric>
#include <sstream>
#include <thread>

#include "needleplan/imaging/Error.h"

namespace np::imaging::detail {

namespace {

std::string mm(double value, int decimals = 2)
{
    std::ostringstream text;
    text << std::fixed << std::setprecision(decimals) << value;
    return text.str();
}

/// Bilinear sample of a rows × columns slice at continuous pixel (x, y); NaN outside the pixel
/// centres (no extrapolation: a value is only produced where the data surrounds the point).
inline float sampleSlice(const float* slice, int columns, int rows, double x, double y)
{
    constexpr double tolerance = 1e-6;
    if (!(x >= -tolerance && x <= columns - 1 + tolerance && y >= -tolerance && y <= rows - 1 + tolerance))
        return std::numeric_limits<float>::quiet_NaN();
    x = std::min(std::max(x, 0.0), static_cast<double>(columns - 1));
    y = std::min(std::max(y, 0.0), static_cast<double>(rows - 1));
    const int x0 = std::min(static_cast<int>(x), std::max(columns - 2, 0));
    const int y0 = std::min(static_cast<int>(y), std::max(rows - 2, 0));
    const double fx = x - x0;
    const double fy = y - y0;
    const int x1 = std::min(x0 + 1, columns - 1);
    const int y1 = std::min(y0 + 1, rows - 1);
    const float* row0 = slice + static_cast<std::ptrdiff_t>(y0) * columns;
    const float* row1 = slice + static_cast<std::ptrdiff_t>(y1) * columns;
    double sum = 0.0;
    // Skip zero weights so an exact hit never mixes in a padded (NaN) neighbour.
    const double w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy), w01 = (1 - fx) * fy, w11 = fx * fy;
    if (w00 > 0) sum += w00 * row0[x0];
    if (w10 > 0) sum += w10 * row0[x1];
    if (w01 > 0) sum += w01 * row1[x0];
    if (w11 > 0) sum += w11 * row1[x1];
    return static_cast<float>(sum);
}

} // namespace

int workerThreadCount()
{
    const unsigned hardware = std::thread::hardware_concurrency();
    return static_cast<int>(std::max(1u, std::min(hardware, 16u)));
}

void parallelFor(std::size_t count, int threads, const std::function<void(std::size_t)>& task)
{
    const std::size_t workers = std::min<std::size_t>(count, static_cast<std::size_t>(std::max(threads, 1)));
    if (workers <= 1) {
        for (std::size_t n = 0; n < count; ++n)
            task(n);
        return;
    }
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr firstError;
    std::mutex errorMutex;
    auto work = [&] {
        while (!failed.load()) {
            const std::size_t n = next.fetch_add(1);
            if (n >= count)
                return;
            try {
                task(n);
            } catch (...) {
                std::lock_guard<std::mutex> lock(errorMutex);
                if (!firstError)
                    firstError = std::current_exception();
                failed = true;
            }
        }
    };
    std::vector<std::thread> pool;
    pool.reserve(workers - 1);
    for (std::size_t w = 0; w + 1 < workers; ++w)
        pool.emplace_back(work);
    work();
    for (auto& thread : pool)
        thread.join();
    if (firstError)
        std::rethrow_exception(firstError);
}

StackPlan planStack(const StackInput& input)
{
    const std::size_t count = input.positionsLps.size();
    if (count == 0)
        throw Error(ErrorCode::Internal, input.what + ": empty stack");
    if (input.columns <= 0 || input.rows <= 0)
        throw Error(ErrorCode::CorruptData, input.what + ": image size " + std::to_string(input.columns) + "x" +
                                                std::to_string(input.rows) + " is empty");
    // Below a micrometre or above ten metres a pixel spacing is a corrupt header.
    const auto plausible = [](double spacing) { return std::isfinite(spacing) && spacing >= 1e-3 && spacing <= 1e4; };
    if (!plausible(input.columnSpacing) || !plausible(input.rowSpacing))
        throw Error(ErrorCode::InconsistentGeometry, input.what + ": pixel spacing " + mm(input.rowSpacing, 4) + "\\" +
                                                         mm(input.columnSpacing, 4) + " mm is not a plausible positive, finite spacing");
    // Orientation: orthonormalise small rounding errors, refuse anything else.
    const Vec3 row = normalized(input.rowCosineLps);
    Vec3 column = normalized(input.columnCosineLps);
    if (norm(input.rowCosineLps) < 0.5 || norm(input.columnCosineLps) < 0.5 || std::abs(dot(row, column)) > 0.01)
        throw Error(ErrorCode::InconsistentGeometry,
                    input.what + ": ImageOrientationPatient does not hold two perpendicular unit vectors");
    column = normalized(column - row * dot(row, column));
    const Vec3 normal = normalized(cross(row, column));

    StackPlan plan;
    plan.order.resize(count);
    std::iota(plan.order.begin(), plan.order.end(), 0);
    std::vector<double> along(count);
    for (std::size_t s = 0; s < count; ++s) {
        along[s] = dot(input.positionsLps[s], normal);
        if (!std::isfinite(along[s]))
            throw Error(ErrorCode::InconsistentGeometry, input.names[s] + ": ImagePositionPatient is not finite");
    }
    std::stable_sort(plan.order.begin(), plan.order.end(), [&](int a, int b) { return along[a] < along[b]; });

    Geometry& geometry = plan.geometry;
    geometry.size = {input.columns, input.rows, static_cast<std::int64_t>(count)};
    geometry.directionLps = Mat3::fromColumns(row, column, normal);
    const Vec3 firstLps = input.positionsLps[plan.order[0]];
    geometry.originLps = firstLps;

    if (count == 1) {
        const bool thicknessUsable = std::isfinite(input.sliceThickness) && input.sliceThickness > 0.0;
        geometry.spacing = {input.columnSpacing, input.rowSpacing, thicknessUsable ? input.sliceThickness : 1.0};
        plan.warnings.push_back(thicknessUsable
                                    ? "single slice: spacing along k taken from SliceThickness (" +
                                          mm(input.sliceThickness) + " mm)"
                                    : "single slice without SliceThickness: spacing along k set to 1 mm");
        return plan;
    }

    std::vector<double> gaps(count - 1);
    for (std::size_t s = 0; s + 1 < count; ++s) {
        const int a = plan.order[s], b = plan.order[s + 1];
        gaps[s] = along[b] - along[a];
        if (gaps[s] < 1e-3)
            throw Error(ErrorCode::DuplicatePosition,
                        input.what + ": two images at the same position (" + mm(along[a], 3) +
                            " mm along the slice normal): " + input.names[a] + " and " + input.names[b]);
    }
    const double range = along[plan.order.back()] - along[plan.order.front()];
    const auto [minIt, maxIt] = std::minmax_element(gaps.begin(), gaps.end());
    const double minGap = *minIt, maxGap = *maxIt;
    std::vector<double> sortedGaps = gaps;
    std::sort(sortedGaps.begin(), sortedGaps.end());
    const double medianGap = sortedGaps[sortedGaps.size() / 2];
    const bool uniform = (maxGap - minGap) <= std::max(0.01, 0.01 * medianGap);

    // In-plane offset of each slice relative to the first one, in the row/column frame.
    double maxInPlane = 0.0;
    std::vector<Vec3> offsets(count);
    for (std::size_t s = 0; s < count; ++s) {
        const Vec3 deltaLps = input.positionsLps[plan.order[s]] - firstLps;
        offsets[s] = {dot(deltaLps, row), dot(deltaLps, column), dot(deltaLps, normal)};
        maxInPlane = std::max({maxInPlane, std::abs(offsets[s].x), std::abs(offsets[s].y)});
    }
    // Positions kilometres apart are corrupt headers, not a patient.
    constexpr double maximumExtentMm = 1.0e5;
    if (range > maximumExtentMm || maxInPlane > maximumExtentMm)
        throw Error(ErrorCode::InconsistentGeometry,
                    input.what + ": ImagePositionPatient values span more than 100 m (" + input.names[plan.order.front()] +
                        " to " + input.names[plan.order.back()] + ")");
    const double shearTolerance = 0.05 * std::min(input.columnSpacing, input.rowSpacing);
    const bool sheared = maxInPlane > shearTolerance;

    if (uniform && !sheared) {
        geometry.spacing = {input.columnSpacing, input.rowSpacing, range / static_cast<double>(count - 1)};
        return plan;
    }

    // Resample onto an orthogonal, uniform grid anchored at the first slice's pixel lattice.
    double baseGap = maxGap;
    for (double gap : gaps)
        if (gap >= 0.5 * medianGap)
            baseGap = std::min(baseGap, gap);
    const auto steps = static_cast<std::int64_t>(std::llround(range / baseGap));
    const std::int64_t sliceCount = std::max<std::int64_t>(steps, 1) + 1;
    const double spacingK = range / static_cast<double>(sliceCount - 1);
    double minU = 0.0, maxU = 0.0, minV = 0.0, maxV = 0.0;
    for (const Vec3& offset : offsets) {
        minU = std::min(minU, offset.x), maxU = std::max(maxU, offset.x);
        minV = std::min(minV, offset.y), maxV = std::max(maxV, offset.y);
    }
    const auto lowI = static_cast<std::int64_t>(std::floor(minU / input.columnSpacing + 1e-6));
    const auto highI = static_cast<std::int64_t>(std::ceil(maxU / input.columnSpacing - 1e-6)) + input.columns - 1;
    const auto lowJ = static_cast<std::int64_t>(std::floor(minV / input.rowSpacing + 1e-6));
    const auto highJ = static_cast<std::int64_t>(std::ceil(maxV / input.rowSpacing - 1e-6)) + input.rows - 1;
    geometry.size = {highI - lowI + 1, highJ - lowJ + 1, sliceCount};
    geometry.spacing = {input.columnSpacing, input.rowSpacing, spacingK};
    geometry.originLps = firstLps + row * (static_cast<double>(lowI) * input.columnSpacing) +
                         column * (static_cast<double>(lowJ) * input.rowSpacing);
    plan.resampled = true;
    plan.sliceOffsetsMm.resize(count);
    for (std::size_t s = 0; s < count; ++s)
        plan.sliceOffsetsMm[s] = {offsets[s].x - static_cast<double>(lowI) * input.columnSpacing,
                                  offsets[s].y - static_cast<double>(lowJ) * input.rowSpacing, offsets[s].z};
    if (!uniform) {
        const bool missing = maxGap > 1.5 * medianGap;
        plan.warnings.push_back(std::string(missing ? "missing slice(s) or " : "") +
                                "non-uniform slice spacing: gaps along the normal from " + mm(minGap) + " to " +
                                mm(maxGap) + " mm; resampled onto a uniform grid of " + mm(spacingK, 3) + " mm (" +
                                std::to_string(sliceCount) + " slices)");
    }
    if (sheared) {
        const Vec3 lastOffset = offsets.back();
        const double shift = std::hypot(lastOffset.x, lastOffset.y);
        const double tiltDeg = std::atan2(shift, range) * 180.0 / 3.14159265358979323846;
        plan.warnings.push_back("gantry tilt / sheared stack: slice positions move " + mm(shift) +
                                " mm in-plane over the stack (tilt " + mm(tiltDeg, 1) +
                                " deg); resampled onto an orthogonal grid of " + std::to_string(geometry.size[0]) +
                                "x" + std::to_string(geometry.size[1]) + "x" + std::to_string(geometry.size[2]));
    }
    return plan;
}

void resampleStack(const StackPlan& plan, int columns, int rows, const std::vector<const float*>& sortedSlices,
                   float fillValue, float* out, int threads)
{
    const Geometry& geometry = plan.geometry;
    const std::int64_t sizeI = geometry.size[0], sizeJ = geometry.size[1];
    const std::size_t slices = sortedSlices.size();
    const double spacingI = geometry.spacing.x, spacingJ = geometry.spacing.y, spacingK = geometry.spacing.z;
    parallelFor(static_cast<std::size_t>(geometry.size[2]), threads, [&](std::size_t k) {
        const double alongMm = static_cast<double>(k) * spacingK;
        // Bracketing source slices s0 <= along <= s1.
        std::size_t s1 = 1;
        while (s1 + 1 < slices && plan.sliceOffsetsMm[s1].z < alongMm)
            ++s1;
        std::size_t s0 = s1 - 1;
        double weight1 = (alongMm - plan.sliceOffsetsMm[s0].z) / (plan.sliceOffsetsMm[s1].z - plan.sliceOffsetsMm[s0].z);
        weight1 = std::min(std::max(weight1, 0.0), 1.0);
        if (weight1 < 1e-6)
            weight1 = 0.0;
        if (weight1 > 1.0 - 1e-6)
            weight1 = 1.0;
        const Vec3 offset0 = plan.sliceOffsetsMm[s0], offset1 = plan.sliceOffsetsMm[s1];
        float* outSlice = out + static_cast<std::ptrdiff_t>(k) * sizeI * sizeJ;
        for (std::int64_t j = 0; j < sizeJ; ++j) {
            const double vMm = static_cast<double>(j) * spacingJ;
            for (std::int64_t i = 0; i < sizeI; ++i) {
                const double uMm = static_cast<double>(i) * spacingI;
                float value = 0.0f;
                if (weight1 == 0.0) {
                    value = sampleSlice(sortedSlices[s0], columns, rows, (uMm - offset0.x) / spacingI,
                                        (vMm - offset0.y) / spacingJ);
                } else if (weight1 == 1.0) {
                    value = sampleSlice(sortedSlices[s1], columns, rows, (uMm - offset1.x) / spacingI,
                                        (vMm - offset1.y) / spacingJ);
                } else {
                    const float a = sampleSlice(sortedSlices[s0], columns, rows, (uMm - offset0.x) / spacingI,
                                                (vMm - offset0.y) / spacingJ);
                    const float b = sampleSlice(sortedSlices[s1], columns, rows, (uMm - offset1.x) / spacingI,
                                                (vMm - offset1.y) / spacingJ);
                    value = static_cast<float>((1.0 - weight1) * a + weight1 * b);
                }
                outSlice[i + sizeI * j] = std::isnan(value) ? fillValue : value;
            }
        }
    });
}

} // namespace np::imaging::detail
