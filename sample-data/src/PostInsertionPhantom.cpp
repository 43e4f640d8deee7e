#include "needleplan/phantom/PostInsertionPhantom.h"

#include "needleplan/imaging/DicomSeriesWriter.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ProgressRange.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace np::phantom {

namespace {

/// Nominal outer diameters of thin-wall hypodermic tubing (ISO 9626), as in the needle catalogue.
double outerDiameterMm(int gauge)
{
    switch (gauge) {
    case 18:
        return 1.27;
    case 20:
        return 0.91;
    case 21:
        return 0.82;
    case 22:
        return 0.72;
    case 23:
        return 0.64;
    case 25:
        return 0.51;
    case 27:
        return 0.41;
    default:
        break;
    }
    throw Error(ErrorCode::InvalidArgument, "phantom: needle gauge " + std::to_string(gauge) +
                                                " is not one of 18, 20, 21, 22, 23, 25, 27");
}

bool finite(const Vec3& v)
{
    return std::isfinite(v.x) && std::isfinite(v.y) && std::isfinite(v.z);
}

/// Where the line from `tip` toward `outward` (unit) leaves the phantom's body (analytic shapes).
bool skinCrossing(const Vec3& tip, const Vec3& outward, double maxMm, Vec3& crossing)
{
    const double step = 0.25;
    double inside = 0.0;
    for (double t = step; t <= maxMm; t += step) {
        if (!structureAt(tip + outward * t).empty()) {
            inside = t;
            continue;
        }
        // Air at t after tissue at inside: refine the boundary by bisection.
        double a = inside, b = t;
        for (int i = 0; i < 30; ++i) {
            const double mid = 0.5 * (a + b);
            (structureAt(tip + outward * mid).empty() ? b : a) = mid;
        }
        crossing = tip + outward * (0.5 * (a + b));
        return true;
    }
    return false;
}

void perpendicularBasis(const Vec3& d, Vec3& e1, Vec3& e2)
{
    const Vec3 helper = std::abs(d.x) < 0.9 ? Vec3{1, 0, 0} : Vec3{0, 1, 0};
    e1 = normalized(cross(d, helper));
    e2 = cross(d, e1);
}

/// Voxel index box (clamped) covering the LPS segment a–b grown by `radius`.
void indexBox(const imaging::Geometry& g, const Vec3& a, const Vec3& b, double radius, std::int64_t lo[3],
              std::int64_t hi[3])
{
    double min[3] = {HUGE_VAL, HUGE_VAL, HUGE_VAL}, max[3] = {-HUGE_VAL, -HUGE_VAL, -HUGE_VAL};
    for (const Vec3& end : {a, b})
        for (int c = 0; c < 8; ++c) {
            const Vec3 ijk = g.ijkFromLps(end + Vec3{(c & 1) ? radius : -radius, (c & 2) ? radius : -radius,
                                                     (c & 4) ? radius : -radius});
            for (int axis = 0; axis < 3; ++axis)
                min[axis] = std::min(min[axis], ijk[axis]), max[axis] = std::max(max[axis], ijk[axis]);
        }
    for (int axis = 0; axis < 3; ++axis) {
        const auto last = g.size[static_cast<std::size_t>(axis)] - 1;
        lo[axis] = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(min[axis])), 0, last);
        hi[axis] = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::ceil(max[axis])), 0, last);
    }
}

nlohmann::json toJson(const Vec3& v)
{
    return nlohmann::json::array({v.x, v.y, v.z});
}

void writeTextAtomically(const std::filesystem::path& path, const std::string& text)
{
    const std::filesystem::path temporary = path.string() + ".tmp" + std::to_string(::getpid());
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out << text;
        out.flush();
        if (!out)
            throw Error(ErrorCode::Io, temporary.string() + ": cannot write");
    }
    std::error_code ec;
    std::filesystem::rename(temporary, path, ec);
    if (ec) {
        std::filesystem::remove(temporary, ec);
        throw Error(ErrorCode::Io, path.string() + ": cannot write (" + ec.message() + ")");
    }
}

} // namespace

imaging::RigidTransform phantomMotion(const Vec3& moveDeg, const Vec3& moveMm)
{
    return imaging::RigidTransform::fromAnglesDeg(moveDeg, moveMm, vertebralBodyCentreLps("L4"));
}

PostInsertionPhantom generatePostInsertionCt(const PostInsertionOptions& options, ProgressSink* progress)
{
    if (!finite(options.moveMm) || !finite(options.moveDeg) || norm(options.moveMm) > 50.0 ||
        std::abs(options.moveDeg.x) > 45.0 || std::abs(options.moveDeg.y) > 45.0 ||
        std::abs(options.moveDeg.z) > 45.0)
        throw Error(ErrorCode::InvalidArgument,
                    "phantom: the motion must be finite, at most 50 mm and 45 degrees about each axis");
    if (!(options.metalHu > 0.0f) || !(options.scannerMaxHu > 0.0f) || !(options.outsideMm >= 0.0) ||
        !(options.streakHu >= 0.0) || !std::isfinite(options.metalHu) || !std::isfinite(options.scannerMaxHu))
        throw Error(
            ErrorCode::InvalidArgument,
            "phantom: metal HU, scanner ceiling, outside length and streak amplitude must be positive");

    PostInsertionPhantom result;
    result.postFromPlanning = phantomMotion(options.moveDeg, options.moveMm);
    for (const PhantomNeedle& n : options.needles) {
        if (!finite(n.entryLps) || !finite(n.tipLps) || distance(n.entryLps, n.tipLps) < 1.0)
            throw Error(ErrorCode::InvalidArgument,
                        "phantom: a needle's entry and tip must be finite and at least 1 mm apart");
        InsertedNeedle inserted;
        inserted.planning = n;
        inserted.outerDiameterMm = outerDiameterMm(n.gauge);
        inserted.tipPostLps = result.postFromPlanning.apply(n.tipLps);
        inserted.entryPostLps = result.postFromPlanning.apply(n.entryLps);
        const Vec3 outward = normalized(n.entryLps - n.tipLps);
        inserted.skinFound = skinCrossing(
            n.tipLps, outward, distance(n.entryLps, n.tipLps) + options.outsideMm, inserted.skinEntryLps);
        result.needles.push_back(inserted);
    }

    PhantomOptions phantomOptions = options.phantom;
    phantomOptions.anatomyMotion = result.postFromPlanning;
    ProgressRange anatomyProgress(progress, 0.0, 0.7);
    Phantom moved = generateLumbarPhantom(phantomOptions, &anatomyProgress);
    result.ct = std::move(moved.ct);
    result.ct.info().description = "NeedlePlan lumbar phantom, post-insertion";
    const imaging::Geometry& g = result.ct.geometry();
    const double halfDiagonal = 0.5 * norm(g.spacing);

    for (std::size_t index = 0; index < result.needles.size(); ++index) {
        throwIfCancelled(progress);
        reportProgress(progress,
                       0.7 + 0.3 * static_cast<double>(index) / static_cast<double>(result.needles.size()),
                       "Inserting needles");
        const InsertedNeedle& n = result.needles[index];
        const Vec3 tip = n.tipPostLps;
        const Vec3 d = normalized(tip - n.entryPostLps); // toward the tip
        const Vec3 hub = n.entryPostLps - d * options.outsideMm;
        const double length = distance(hub, tip);
        const double radius = 0.5 * n.outerDiameterMm;
        Vec3 e1, e2;
        perpendicularBasis(d, e1, e2);
        // Streak lobes: a broad bright/dark pair and finer rays, fading in beyond the metal.
        const double phase = 0.7 + 1.3 * static_cast<double>(index) + 0.11 * options.phantom.seed;
        const double streakReach = 50.0;
        std::int64_t lo[3], hi[3];
        indexBox(g, hub, tip, streakReach, lo, hi);
        for (std::int64_t k = lo[2]; k <= hi[2]; ++k)
            for (std::int64_t j = lo[1]; j <= hi[1]; ++j)
                for (std::int64_t i = lo[0]; i <= hi[0]; ++i) {
                    const Vec3 ijk{static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)};
                    const Vec3 p = g.lpsFromIjk(ijk);
                    const Vec3 offset = p - hub;
                    const double t = std::clamp(dot(offset, d), 0.0, length);
                    const Vec3 radial = offset - d * t;
                    const double r = norm(radial);
                    if (r > streakReach)
                        continue;
                    float& value = result.ct.at(i, j, k);
                    double metalFraction = 0.0;
                    if (r <= radius + halfDiagonal) {
                        int inside = 0;
                        for (int a = 0; a < 4; ++a)
                            for (int b = 0; b < 4; ++b)
                                for (int c = 0; c < 4; ++c) {
                                    const Vec3 q =
                                        g.lpsFromIjk(ijk + Vec3{(a + 0.5) / 4 - 0.5, (b + 0.5) / 4 - 0.5,
                                                                (c + 0.5) / 4 - 0.5}) -
                                        hub;
                                    const double s = dot(q, d);
                                    if (s >= 0.0 && s <= length && norm(q - d * s) <= radius)
                                        ++inside;
                                }
                        metalFraction = inside / 64.0;
                    }
                    if (metalFraction > 0.0) {
                        value = static_cast<float>((1.0 - metalFraction) * value +
                                                   metalFraction * options.metalHu);
                        continue;
                    }
                    if (value < -500.0f || options.streakHu == 0.0)
                        continue; // streaks show in the body, not in the air around it
                    const double phi = std::atan2(dot(radial, e2), dot(radial, e1));
                    const double fadeIn = std::clamp((r - 1.5) / 2.0, 0.0, 1.0);
                    const double streak = options.streakHu * fadeIn *
                                          (std::cos(2.0 * (phi - phase)) * std::exp(-r / 20.0) +
                                           0.5 * std::cos(14.0 * (phi - 0.3 * phase)) * std::exp(-r / 35.0));
                    value = static_cast<float>(value + streak);
                }
    }
    for (float& v : result.ct.voxels())
        v = std::clamp(v, -1024.0f, options.scannerMaxHu);
    reportProgress(progress, 1.0, "Post-insertion CT ready");
    return result;
}

void writePostInsertionPhantom(const PostInsertionPhantom& phantom, const PostInsertionOptions& options,
                               const std::string& folder, ProgressSink* progress)
{
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    if (!std::filesystem::is_directory(folder))
        throw Error(ErrorCode::Io, folder + ": cannot create the output folder");
    const std::filesystem::path root(folder);
    const std::filesystem::path dicom = root / "dicom";
    if (std::filesystem::is_directory(dicom, ec))
        for (const auto& entry : std::filesystem::directory_iterator(dicom, ec)) {
            const std::string name = entry.path().filename().string();
            if (entry.is_regular_file() && name.rfind("slice_", 0) == 0 && entry.path().extension() == ".dcm")
                std::filesystem::remove(entry.path(), ec);
        }
    imaging::DicomWriteOptions dicomOptions;
    dicomOptions.modality = "CT";
    dicomOptions.patientPosition =
        phantom.ct.info().patientPosition.empty() ? "HFP" : phantom.ct.info().patientPosition;
    dicomOptions.patientName = "Phantom^Lumbar";
    dicomOptions.patientId = "NP-PHANTOM";
    dicomOptions.seriesDescription = phantom.ct.info().description;
    dicomOptions.seriesNumber = 2;
    ProgressRange dicomProgress(progress, 0.0, 0.95);
    imaging::writeDicomSeries(phantom.ct, dicom.string(), dicomOptions, &dicomProgress);

    nlohmann::json truth;
    truth["schema"] = "needleplan.post-insertion-truth/1";
    truth["coordinateSystem"] = "LPS";
    nlohmann::json motion;
    motion["rotation"] = nlohmann::json::array();
    for (double v : phantom.postFromPlanning.rotation.m)
        motion["rotation"].push_back(v);
    motion["translationMm"] = toJson(phantom.postFromPlanning.translationMm);
    motion["moveMm"] = toJson(options.moveMm);
    motion["moveDeg"] = toJson(options.moveDeg);
    motion["rotationCentreLps"] = toJson(vertebralBodyCentreLps("L4"));
    truth["postFromPlanning"] = motion;
    truth["metalHu"] = options.metalHu;
    truth["scannerMaxHu"] = options.scannerMaxHu;
    truth["needles"] = nlohmann::json::array();
    for (const InsertedNeedle& n : phantom.needles) {
        nlohmann::json needle;
        needle["gauge"] = n.planning.gauge;
        needle["outerDiameterMm"] = n.outerDiameterMm;
        needle["entryLps"] = toJson(n.planning.entryLps);
        needle["tipLps"] = toJson(n.planning.tipLps);
        if (n.skinFound)
            needle["skinEntryLps"] = toJson(n.skinEntryLps);
        needle["tipPostLps"] = toJson(n.tipPostLps);
        needle["entryPostLps"] = toJson(n.entryPostLps);
        truth["needles"].push_back(needle);
    }
    writeTextAtomically(root / "truth.json", truth.dump(2) + "\n");
    reportProgress(progress, 1.0, "Post-insertion CT written");
}

} // namespace np::phantom
