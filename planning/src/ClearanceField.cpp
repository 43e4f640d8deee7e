#include "needleplan/imaging/Toolkit.h"
#include "needleplan/planning/ClearanceField.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"
#include "needleplan/imaging/Volume.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <itkImage.h>
#include <itkSignedMaurerDistanceMapImageFilter.h>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

namespace np::planning {

bool IndexBox::contains(const IndexBox& other) const
{
    if (other.empty())
        return true;
    if (empty())
        return false;
    for (int a = 0; a < 3; ++a)
        if (other.lo[a] < lo[a] || other.hi[a] > hi[a])
            return false;
    return true;
}

void DistanceField::updateSamplingBoxes()
{
    for (int a = 0; a < 3; ++a) {
        m_boxLoEdge[a] = static_cast<double>(m_bounds.lo[a]) - 0.5;
        m_boxHiEdge[a] = static_cast<double>(m_bounds.hi[a]) + 0.5;
        m_cropLo[a] = static_cast<double>(m_crop.lo[a]);
        if (m_crop.empty() || m_roi.empty()) {
            m_sampleLo[a] = 0.0;
            m_sampleHi[a] = -1.0;
        } else {
            m_sampleLo[a] = static_cast<double>(std::max(m_roi.lo[a], m_crop.lo[a]));
            m_sampleHi[a] = static_cast<double>(std::min(m_roi.hi[a], m_crop.hi[a]));
        }
    }
}

std::pair<double, double> DistanceField::boundingBoxSlab(const Vec3& startIjk, const Vec3& stepIjk,
                                                         double distanceMm) const
{
    constexpr double inf = std::numeric_limits<double>::infinity();
    if (m_absent)
        return {inf, -inf};
    // Where every axis's gap to the box is below distanceMm (a box grown by it in each axis): the
    // Euclidean box distance is at least the largest axis gap, so outside it is at least distanceMm.
    double first = -inf, last = inf;
    for (int a = 0; a < 3; ++a) {
        const double grow = distanceMm / m_spacing[a];
        const double lo = m_boxLoEdge[a] - grow, hi = m_boxHiEdge[a] + grow;
        const double p = startIjk[a], d = stepIjk[a];
        if (d == 0.0) {
            if (!(p > lo && p < hi))
                return {inf, -inf};
            continue;
        }
        const double t1 = (lo - p) / d, t2 = (hi - p) / d;
        first = std::max(first, std::min(t1, t2));
        last = std::min(last, std::max(t1, t2));
    }
    return {first, last};
}

ClearanceFieldSet::ClearanceFieldSet(const imaging::LabelMap& labels, ClearanceFieldOptions options)
    : m_labels(labels), m_options(options)
{
    if (!(m_options.capMm > 0.0) || !std::isfinite(m_options.capMm))
        throw Error(ErrorCode::InvalidArgument, "clearance cap must be a positive number of mm");
    m_options.threads = std::max(1, m_options.threads);
    m_labels.geometry().validate("label map");
    if (m_labels.labels().size() != static_cast<std::size_t>(m_labels.geometry().voxelCount()))
        throw Error(ErrorCode::InvalidArgument, "label map: voxel buffer does not match its size");
    scanLabels();
}

ClearanceFieldSet::~ClearanceFieldSet() = default;

const imaging::Geometry& ClearanceFieldSet::geometry() const
{
    return m_labels.geometry();
}

void ClearanceFieldSet::scanLabels()
{
    const auto& size = m_labels.geometry().size;
    std::uint16_t maxLabel = 0;
    for (const auto& segment : m_labels.segments())
        maxLabel = std::max(maxLabel, segment.labelValue);
    m_bounds.assign(static_cast<std::size_t>(maxLabel) + 1, LabelBounds{});
    m_fields.resize(m_bounds.size());
    for (auto& b : m_bounds) {
        b.box.lo = {size[0], size[1], size[2]};
        b.box.hi = {-1, -1, -1};
    }
    const std::uint16_t* data = m_labels.data();
    std::int64_t index = 0;
    for (std::int64_t k = 0; k < size[2]; ++k)
        for (std::int64_t j = 0; j < size[1]; ++j)
            for (std::int64_t i = 0; i < size[0]; ++i, ++index) {
                const std::uint16_t label = data[index];
                if (label == 0 || label > maxLabel)
                    continue;
                LabelBounds& b = m_bounds[label];
                ++b.count;
                b.box.lo[0] = std::min(b.box.lo[0], i), b.box.hi[0] = std::max(b.box.hi[0], i);
                b.box.lo[1] = std::min(b.box.lo[1], j), b.box.hi[1] = std::max(b.box.hi[1], j);
                b.box.lo[2] = std::min(b.box.lo[2], k), b.box.hi[2] = std::max(b.box.hi[2], k);
            }
}

IndexBox ClearanceFieldSet::roiBox(const Vec3& centerLps, double radiusMm) const
{
    const auto& g = m_labels.geometry();
    const Vec3 centerIjk = g.ijkFromLps(centerLps);
    IndexBox box;
    for (int a = 0; a < 3; ++a) {
        const double halfWidth = radiusMm / g.spacing[a];
        const double lo = std::floor(centerIjk[a] - halfWidth) - 1.0;
        const double hi = std::ceil(centerIjk[a] + halfWidth) + 1.0;
        box.lo[a] = static_cast<std::int64_t>(std::max(0.0, std::min(lo, static_cast<double>(g.size[a]))));
        box.hi[a] =
            static_cast<std::int64_t>(std::max(-1.0, std::min(hi, static_cast<double>(g.size[a] - 1))));
    }
    return box;
}

void ClearanceFieldSet::prepare(const std::vector<StructureSpec>& structures, const Vec3& centerLps,
                                double radiusMm, ProgressSink* progress)
{
    prepare(structures, centerLps, radiusMm, -1.0, progress);
}

void ClearanceFieldSet::prepare(const std::vector<StructureSpec>& structures, const Vec3& centerLps,
                                double radiusMm, double exactBeyondMarginMm, ProgressSink* progress)
{
    if (!std::isfinite(radiusMm) || radiusMm <= 0.0 || !std::isfinite(centerLps.x) ||
        !std::isfinite(centerLps.y) || !std::isfinite(centerLps.z))
        throw Error(ErrorCode::InvalidArgument,
                    "clearance fields: region of interest must have a finite centre and "
                    "a positive radius");
    prepareBoxes(structures, roiBox(centerLps, radiusMm),
                 roiBox(centerLps, radiusMm + m_options.roiPaddingMm), exactBeyondMarginMm, progress);
}

void ClearanceFieldSet::prepareRegion(const std::vector<StructureSpec>& structures,
                                      const std::vector<Vec3>& pointsLps, double paddingMm,
                                      ProgressSink* progress, double exactBeyondMarginMm)
{
    if (pointsLps.empty() || !std::isfinite(paddingMm) || paddingMm < 0.0)
        throw Error(ErrorCode::InvalidArgument, "clearance fields: empty region of interest");
    const auto& g = m_labels.geometry();
    auto boxOf = [&](double pad) {
        double lo[3] = {1e300, 1e300, 1e300}, hi[3] = {-1e300, -1e300, -1e300};
        for (const Vec3& p : pointsLps) {
            if (!std::isfinite(p.x) || !std::isfinite(p.y) || !std::isfinite(p.z))
                throw Error(ErrorCode::InvalidArgument, "clearance fields: region point is not finite");
            const Vec3 ijk = g.ijkFromLps(p);
            for (int a = 0; a < 3; ++a)
                lo[a] = std::min(lo[a], ijk[a]), hi[a] = std::max(hi[a], ijk[a]);
        }
        IndexBox box;
        for (int a = 0; a < 3; ++a) {
            const double grow = pad / g.spacing[a] + 1.0;
            box.lo[a] = static_cast<std::int64_t>(
                std::max(0.0, std::min(std::floor(lo[a] - grow), static_cast<double>(g.size[a]))));
            box.hi[a] = static_cast<std::int64_t>(
                std::max(-1.0, std::min(std::ceil(hi[a] + grow), static_cast<double>(g.size[a] - 1))));
        }
        return box;
    };
    prepareBoxes(structures, boxOf(paddingMm), boxOf(paddingMm + m_options.roiPaddingMm), exactBeyondMarginMm,
                 progress);
}

void ClearanceFieldSet::prepareBoxes(const std::vector<StructureSpec>& structures, const IndexBox& wanted,
                                     const IndexBox& padded, double exactBeyondMarginMm,
                                     ProgressSink* progress)
{
    const double beyondMargin = exactBeyondMarginMm >= 0.0 && std::isfinite(exactBeyondMarginMm)
                                    ? exactBeyondMarginMm
                                    : m_options.exactBeyondMarginMm;
    std::vector<DistanceField*> toCompute;
    for (const auto& spec : structures) {
        if (spec.structureClass == StructureClass::Ignored)
            continue;
        if (spec.labelValue == 0 || spec.labelValue >= m_bounds.size())
            throw Error(ErrorCode::NotFound, "structure \"" + spec.name + "\": label value " +
                                                 std::to_string(spec.labelValue) +
                                                 " is not in the label map");
        auto& slot = m_fields[spec.labelValue];
        if (!slot) {
            slot = std::make_unique<DistanceField>();
            slot->m_labelValue = spec.labelValue;
            slot->m_bounds = m_bounds[spec.labelValue].box;
            slot->m_voxelCount = m_bounds[spec.labelValue].count;
            slot->m_absent = slot->m_voxelCount == 0;
            slot->m_spacing = m_labels.geometry().spacing;
            slot->m_capMm = m_options.capMm;
            slot->updateSamplingBoxes();
        }
        if (slot->m_absent)
            continue;
        // Exact at least up to the margin plus the search's saturation: a bound never decides.
        const double neededCap = std::max(m_options.capMm, spec.marginMm + beyondMargin);
        if (!slot->m_roi.empty() && slot->m_roi.contains(wanted) && slot->m_capMm >= neededCap)
            continue;
        slot->m_capMm = std::max(slot->m_capMm, neededCap);
        if (std::find(toCompute.begin(), toCompute.end(), slot.get()) == toCompute.end())
            toCompute.push_back(slot.get());
    }
    // Largest crops first, then one structure per worker thread (each map single-threaded): many
    // small crops parallelise better across structures than inside ITK's filter.
    std::vector<std::int64_t> volumes(toCompute.size());
    for (std::size_t n = 0; n < toCompute.size(); ++n) {
        const IndexBox& b = toCompute[n]->m_bounds;
        volumes[n] = (b.hi[0] - b.lo[0] + 1) * (b.hi[1] - b.lo[1] + 1) * (b.hi[2] - b.lo[2] + 1);
    }
    std::vector<std::size_t> order(toCompute.size());
    for (std::size_t n = 0; n < order.size(); ++n)
        order[n] = n;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return volumes[a] > volumes[b]; });
    std::atomic<std::size_t> next{0};
    std::atomic<int> finished{0};
    std::atomic<bool> stop{false};
    std::exception_ptr failure;
    std::mutex failureMutex;
    auto worker = [&] {
        for (;;) {
            const std::size_t n = next.fetch_add(1);
            if (n >= order.size() || stop.load())
                return;
            try {
                if (progress && progress->cancelRequested())
                    throw Error(ErrorCode::Cancelled, "distance map computation cancelled");
                computeField(*toCompute[order[n]], padded, 1);
                const int done = ++finished;
                reportProgress(progress, static_cast<double>(done) / static_cast<double>(order.size()),
                               "distance maps");
            } catch (...) {
                std::lock_guard<std::mutex> lock(failureMutex);
                if (!failure)
                    failure = std::current_exception();
                stop = true;
                return;
            }
        }
    };
    const int threadCount = std::max(1, std::min<int>(m_options.threads, static_cast<int>(order.size())));
    imaging::prepareToolkitForThreads(); // each thread runs ITK's distance-map filters
    std::vector<std::thread> threads;
    for (int t = 1; t < threadCount; ++t)
        threads.emplace_back(worker);
    worker();
    for (auto& t : threads)
        t.join();
    m_computedMapCount += finished.load();
    if (failure)
        std::rethrow_exception(failure);
    reportProgress(progress, 1.0, "distance maps");
}

void ClearanceFieldSet::computeField(DistanceField& field, const IndexBox& roi, int workUnits)
{
    const auto& g = m_labels.geometry();
    IndexBox crop;
    for (int a = 0; a < 3; ++a) {
        const std::int64_t capVoxels = static_cast<std::int64_t>(std::ceil(field.m_capMm / g.spacing[a])) + 2;
        crop.lo[a] = std::max<std::int64_t>({0, field.m_bounds.lo[a] - capVoxels, roi.lo[a] - capVoxels});
        crop.hi[a] =
            std::min<std::int64_t>({g.size[a] - 1, field.m_bounds.hi[a] + capVoxels, roi.hi[a] + capVoxels});
    }
    field.m_roi = roi;
    field.m_crop = crop;
    field.m_values.clear();
    // Closed to sampling until the values exist (a failed computation leaves it closed).
    field.m_sampleLo[0] = 0.0;
    field.m_sampleHi[0] = -1.0;
    if (crop.empty()) {
        field.m_cropSize = {0, 0, 0};
        field.updateSamplingBoxes();
        return;
    }
    for (int a = 0; a < 3; ++a)
        field.m_cropSize[a] = crop.hi[a] - crop.lo[a] + 1;

    using MaskImage = itk::Image<unsigned char, 3>;
    using DistanceImage = itk::Image<float, 3>;
    auto mask = MaskImage::New();
    MaskImage::RegionType region;
    MaskImage::SizeType size;
    for (int a = 0; a < 3; ++a)
        size[a] = static_cast<itk::SizeValueType>(field.m_cropSize[a]);
    region.SetSize(size);
    mask->SetRegions(region);
    MaskImage::SpacingType spacing;
    for (int a = 0; a < 3; ++a)
        spacing[a] = g.spacing[a];
    mask->SetSpacing(spacing);
    mask->Allocate();
    unsigned char* maskData = mask->GetBufferPointer();
    const std::uint16_t* labelData = m_labels.data();
    const std::uint16_t label = field.m_labelValue;
    bool anyInside = false;
    std::int64_t out = 0;
    for (std::int64_t k = crop.lo[2]; k <= crop.hi[2]; ++k)
        for (std::int64_t j = crop.lo[1]; j <= crop.hi[1]; ++j) {
            const std::uint16_t* row = labelData + g.size[0] * (j + g.size[1] * k);
            for (std::int64_t i = crop.lo[0]; i <= crop.hi[0]; ++i, ++out) {
                const bool inside = row[i] == label;
                maskData[out] = inside ? 1 : 0;
                anyInside |= inside;
            }
        }
    const double maxSpacing = g.maxSpacing();
    const double minSpacing = std::min({g.spacing.x, g.spacing.y, g.spacing.z});
    const std::size_t count = static_cast<std::size_t>(out);
    if (!anyInside) {
        // No voxel of the structure lies within the cap of the region of interest (the crop holds
        // every such voxel): beyond the cap, and at least the bounding-box distance away.
        field.m_values.assign(count, static_cast<float>(std::numeric_limits<float>::max()));
        std::int64_t index = 0;
        for (std::int64_t k = crop.lo[2]; k <= crop.hi[2]; ++k)
            for (std::int64_t j = crop.lo[1]; j <= crop.hi[1]; ++j)
                for (std::int64_t i = crop.lo[0]; i <= crop.hi[0]; ++i, ++index)
                    field.m_values[static_cast<std::size_t>(index)] = static_cast<float>(std::max(
                        field.m_capMm + maxSpacing,
                        field.boundingBoxDistanceAtIjk(
                            Vec3{static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)})));
        field.updateSamplingBoxes();
        return;
    }
    try {
        using FilterType = itk::SignedMaurerDistanceMapImageFilter<MaskImage, DistanceImage>;
        auto filter = FilterType::New();
        filter->SetInput(mask);
        filter->SetUseImageSpacing(true);
        filter->SetSquaredDistance(false);
        filter->SetInsideIsPositive(false);
        filter->SetBackgroundValue(0);
        filter->SetNumberOfWorkUnits(static_cast<itk::ThreadIdType>(std::max(1, workUnits)));
        filter->Update();
        const float* distance = filter->GetOutput()->GetBufferPointer();
        field.m_values.resize(count);
        // Half-voxel correction to the inside/outside voxel-centre boundary (see the header).
        const float outsideShift = static_cast<float>(0.5 * maxSpacing);
        const float insideShift = static_cast<float>(0.5 * minSpacing);
        for (std::size_t n = 0; n < count; ++n) {
            const float d = distance[n];
            field.m_values[n] = maskData[n] ? std::min(d, 0.0f) - insideShift : d - outsideShift;
        }
        field.updateSamplingBoxes();
    } catch (const itk::ExceptionObject& e) {
        throw Error(ErrorCode::Internal,
                    std::string("distance map computation failed: ") + e.GetDescription());
    }
}

void ClearanceFieldSet::invalidate(std::uint16_t labelValue)
{
    if (labelValue == 0)
        return;
    const auto& size = m_labels.geometry().size;
    if (labelValue >= m_bounds.size()) { // a structure added since the set was made
        m_bounds.resize(static_cast<std::size_t>(labelValue) + 1);
        m_fields.resize(m_bounds.size());
    }
    LabelBounds bounds;
    bounds.box.lo = {size[0], size[1], size[2]};
    bounds.box.hi = {-1, -1, -1};
    const std::uint16_t* data = m_labels.data();
    std::int64_t index = 0;
    for (std::int64_t k = 0; k < size[2]; ++k)
        for (std::int64_t j = 0; j < size[1]; ++j)
            for (std::int64_t i = 0; i < size[0]; ++i, ++index)
                if (data[index] == labelValue) {
                    ++bounds.count;
                    bounds.box.lo[0] = std::min(bounds.box.lo[0], i),
                    bounds.box.hi[0] = std::max(bounds.box.hi[0], i);
                    bounds.box.lo[1] = std::min(bounds.box.lo[1], j),
                    bounds.box.hi[1] = std::max(bounds.box.hi[1], j);
                    bounds.box.lo[2] = std::min(bounds.box.lo[2], k),
                    bounds.box.hi[2] = std::max(bounds.box.hi[2], k);
                }
    m_bounds[labelValue] = bounds;
    m_fields[labelValue].reset();
    std::lock_guard<std::mutex> lock(m_boundaryMutex);
    m_boundaries.reset();
}

const DistanceField* ClearanceFieldSet::field(std::uint16_t labelValue) const
{
    if (labelValue >= m_fields.size())
        return nullptr;
    return m_fields[labelValue].get();
}

double ClearanceFieldSet::distanceMm(std::uint16_t labelValue, const Vec3& pointLps) const
{
    const DistanceField* f = field(labelValue);
    if (!f)
        throw Error(ErrorCode::InvalidArgument,
                    "clearance field for label " + std::to_string(labelValue) + " was not prepared");
    return f->distanceAtIjk(m_labels.geometry().ijkFromLps(pointLps));
}

struct ClearanceFieldSet::BoundaryCache
{
    /// Boundary voxel centres (LPS) of one structure within an 8 mm cell, with a bounding sphere.
    struct Cell
    {
        Vec3 centreLps;
        double radiusMm = 0.0;
        std::vector<Vec3> pointsLps;
    };
    IndexBox box;                                ///< voxels scanned
    std::vector<bool> gathered;                  ///< labels whose boundary voxels were gathered
    std::vector<std::vector<Cell>> cellsByLabel; ///< indexed by label value
};

namespace {

/// Distance from `p` to the segment a + t (b - a), t in [0, 1], and the t of the closest point.
double pointSegmentDistance(const Vec3& p, const Vec3& a, const Vec3& ab, double abLengthSquared, double& t)
{
    t = abLengthSquared > 0.0 ? std::max(0.0, std::min(1.0, dot(p - a, ab) / abLengthSquared)) : 0.0;
    return norm(p - (a + ab * t));
}

} // namespace

void ClearanceFieldSet::gatherBoundaries(const IndexBox& box) const
{
    // One pass over the box for every prepared structure: an inside voxel with a 6-neighbour of
    // another label (or at the image's edge) is a boundary voxel. The nearest inside voxel centre
    // of any point outside a structure is such a voxel.
    const auto& g = m_labels.geometry();
    const auto& size = g.size;
    auto cache = std::make_unique<BoundaryCache>();
    cache->box = box;
    cache->cellsByLabel.assign(m_fields.size(), {});
    std::vector<bool> wanted(m_fields.size(), false);
    for (std::size_t label = 1; label < m_fields.size(); ++label)
        wanted[label] = m_fields[label] && !m_fields[label]->absent();
    cache->gathered = wanted;
    std::array<std::int64_t, 3> cellVoxels{};
    for (int a = 0; a < 3; ++a)
        cellVoxels[a] = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(8.0 / g.spacing[a])));
    const std::int64_t cellsX = (box.hi[0] - box.lo[0]) / cellVoxels[0] + 1;
    const std::int64_t cellsY = (box.hi[1] - box.lo[1]) / cellVoxels[1] + 1;
    std::vector<std::unordered_map<std::int64_t, std::size_t>> cellIndex(m_fields.size());
    const std::uint16_t* data = m_labels.data();
    const std::int64_t sy = size[0], sz = size[0] * size[1];
    for (std::int64_t k = box.lo[2]; k <= box.hi[2]; ++k)
        for (std::int64_t j = box.lo[1]; j <= box.hi[1]; ++j) {
            const std::uint16_t* row = data + sy * j + sz * k;
            for (std::int64_t i = box.lo[0]; i <= box.hi[0]; ++i) {
                const std::uint16_t label = row[i];
                if (label == 0 || label >= wanted.size() || !wanted[label])
                    continue;
                const bool boundary = i == 0 || j == 0 || k == 0 || i == size[0] - 1 || j == size[1] - 1 ||
                                      k == size[2] - 1 || row[i - 1] != label || row[i + 1] != label ||
                                      row[i - sy] != label || row[i + sy] != label || row[i - sz] != label ||
                                      row[i + sz] != label;
                if (!boundary)
                    continue;
                const std::int64_t cell =
                    (i - box.lo[0]) / cellVoxels[0] +
                    cellsX * ((j - box.lo[1]) / cellVoxels[1] + cellsY * ((k - box.lo[2]) / cellVoxels[2]));
                auto& cells = cache->cellsByLabel[label];
                const auto [it, inserted] = cellIndex[label].emplace(cell, cells.size());
                if (inserted)
                    cells.emplace_back();
                cells[it->second].pointsLps.push_back(g.lpsFromIjk(
                    Vec3{static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)}));
            }
        }
    for (auto& cells : cache->cellsByLabel)
        for (auto& cell : cells) {
            Vec3 lo = cell.pointsLps.front(), hi = lo;
            for (const Vec3& p : cell.pointsLps)
                for (int a = 0; a < 3; ++a)
                    lo[a] = std::min(lo[a], p[a]), hi[a] = std::max(hi[a], p[a]);
            cell.centreLps = (lo + hi) * 0.5;
            cell.radiusMm = 0.5 * norm(hi - lo);
        }
    m_boundaries = std::move(cache);
}

ClearanceFieldSet::SegmentDistance ClearanceFieldSet::exactSegmentDistance(std::uint16_t labelValue,
                                                                           const Vec3& aLps, const Vec3& bLps,
                                                                           double limitMm) const
{
    const DistanceField* f = field(labelValue);
    if (!f)
        throw Error(ErrorCode::InvalidArgument,
                    "clearance field for label " + std::to_string(labelValue) + " was not prepared");
    if (!(limitMm > 0.0) || !std::isfinite(limitMm))
        throw Error(ErrorCode::InvalidArgument, "exact distance: the limit must be a positive number of mm");
    SegmentDistance result;
    result.distanceMm = limitMm;
    result.lowerBound = true;
    if (f->absent())
        return result;
    const auto& g = m_labels.geometry();
    const double halfVoxel = 0.5 * g.maxSpacing(); // outside correction of the file comment
    const double reach = limitMm + halfVoxel;
    // Every voxel within `reach` of the segment lies in this box.
    IndexBox needed;
    {
        const Vec3 a = g.ijkFromLps(aLps), b = g.ijkFromLps(bLps);
        for (int ax = 0; ax < 3; ++ax) {
            const double grow = reach / g.spacing[ax] + 2.0;
            needed.lo[ax] =
                static_cast<std::int64_t>(std::max(0.0, std::min(std::floor(std::min(a[ax], b[ax]) - grow),
                                                                 static_cast<double>(g.size[ax] - 1))));
            needed.hi[ax] =
                static_cast<std::int64_t>(std::max(0.0, std::min(std::ceil(std::max(a[ax], b[ax]) + grow),
                                                                 static_cast<double>(g.size[ax] - 1))));
        }
    }
    std::lock_guard<std::mutex> lock(m_boundaryMutex);
    if (!m_boundaries || !m_boundaries->box.contains(needed) || labelValue >= m_boundaries->gathered.size() ||
        !m_boundaries->gathered[labelValue]) {
        // Scan once for the whole region the fields were prepared for (grown by the reach), so
        // that the other trajectories of a plan reuse it.
        IndexBox box = needed;
        const IndexBox& roi = f->roi();
        if (!roi.empty())
            for (int ax = 0; ax < 3; ++ax) {
                const auto grow = static_cast<std::int64_t>(std::ceil(reach / g.spacing[ax])) + 2;
                box.lo[ax] = std::max<std::int64_t>(0, std::min(box.lo[ax], roi.lo[ax] - grow));
                box.hi[ax] = std::min<std::int64_t>(g.size[ax] - 1, std::max(box.hi[ax], roi.hi[ax] + grow));
            }
        gatherBoundaries(box);
    }
    const auto& cells = m_boundaries->cellsByLabel[labelValue];
    const Vec3 ab = bLps - aLps;
    const double abLengthSquared = dot(ab, ab);
    // Cells by a lower bound of their points' distance; the nearest cell first gives a good bound,
    // then only cells that can beat it are scanned.
    std::vector<double> cellBound(cells.size());
    double t = 0.0;
    std::size_t first = 0;
    for (std::size_t c = 0; c < cells.size(); ++c) {
        cellBound[c] =
            pointSegmentDistance(cells[c].centreLps, aLps, ab, abLengthSquared, t) - cells[c].radiusMm;
        if (cellBound[c] < cellBound[first])
            first = c;
    }
    double best = std::numeric_limits<double>::infinity(), bestT = 0.0;
    auto scan = [&](std::size_t c) {
        for (const Vec3& p : cells[c].pointsLps) {
            const double d = pointSegmentDistance(p, aLps, ab, abLengthSquared, t);
            if (d < best)
                best = d, bestT = t;
        }
    };
    if (!cells.empty())
        scan(first);
    for (std::size_t c = 0; c < cells.size(); ++c)
        if (c != first && cellBound[c] < best)
            scan(c);
    if (best > reach)
        return result;
    result.distanceMm = best - halfVoxel;
    result.depthFromAMm = bestT * std::sqrt(abLengthSquared);
    result.lowerBound = false;
    return result;
}

} // namespace np::planning
