// Planning on the sample lumbar phantom written by the build (<build>/sample-data/phantom): every
// named target gets at least one safe trajectory from the preset of its kind, and no returned
// trajectory comes within its margin of a nerve root, the dura or the spinal canal, checked on the
// ground-truth label voxels independently of the planner's distance fields.

#include "TestSupport.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/LabelMapIO.h"
#include "needleplan/planning/BodyModel.h"
#include "needleplan/planning/ClearanceField.h"
#include "needleplan/planning/Planner.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace np;
using namespace np::planning;

namespace {

std::filesystem::path phantomDir()
{
    return test::binaryDir() / "sample-data" / "phantom";
}

struct NamedTarget
{
    std::string name, kind;
    Vec3 positionLps;
};

std::vector<NamedTarget> readTargets(const std::filesystem::path& path)
{
    std::ifstream in(path);
    const auto root = nlohmann::json::parse(in);
    std::vector<NamedTarget> targets;
    for (const auto& t : root.at("targets")) {
        const auto& p = t.at("positionLps");
        targets.push_back({t.at("name").get<std::string>(),
                           t.at("kind").get<std::string>(),
                           {p.at(0).get<double>(), p.at(1).get<double>(), p.at(2).get<double>()}});
    }
    return targets;
}

std::string presetForKind(const std::string& kind)
{
    if (kind == "medial_branch")
        return "lumbar-mbb";
    if (kind == "dorsal_ramus")
        return "l5-dorsal-ramus";
    if (kind == "facet_joint")
        return "lumbar-facet-ia";
    if (kind == "transforaminal")
        return "lumbar-tfesi";
    return "generic";
}

/// Smallest (axis distance − radius − margin) over every voxel centre labelled with a checked
/// structure, by brute force over the segment's bounding box. A voxel centre inside a structure
/// may lie up to half a voxel diagonal inside its surface, so a tolerance of one largest spacing
/// covers the stated 0.5 × spacing plus that offset.
double worstLabelSlack(const imaging::LabelMap& labels, const std::vector<StructureSpec>& checked,
                       const Vec3& a, const Vec3& b, double radius, std::string& worstName)
{
    const auto& g = labels.geometry();
    double reach = 0.0;
    for (const auto& s : checked)
        reach = std::max(reach, s.marginMm + radius + 2.0);
    double lo[3], hi[3];
    for (int axis = 0; axis < 3; ++axis)
        lo[axis] = 1e300, hi[axis] = -1e300;
    for (const Vec3& corner : {a, b})
        for (int dx = -1; dx <= 1; dx += 2)
            for (int dy = -1; dy <= 1; dy += 2)
                for (int dz = -1; dz <= 1; dz += 2) {
                    const Vec3 ijk = g.ijkFromLps(corner + Vec3{dx * reach, dy * reach, dz * reach});
                    for (int axis = 0; axis < 3; ++axis)
                        lo[axis] = std::min(lo[axis], ijk[axis]), hi[axis] = std::max(hi[axis], ijk[axis]);
                }
    std::int64_t l[3], h[3];
    for (int axis = 0; axis < 3; ++axis) {
        l[axis] = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::floor(lo[axis])));
        h[axis] = std::min<std::int64_t>(g.size[axis] - 1, static_cast<std::int64_t>(std::ceil(hi[axis])));
    }
    double worst = 1e300;
    const Vec3 ab = b - a;
    for (std::int64_t k = l[2]; k <= h[2]; ++k)
        for (std::int64_t j = l[1]; j <= h[1]; ++j)
            for (std::int64_t i = l[0]; i <= h[0]; ++i) {
                const std::uint16_t label = labels.at(i, j, k);
                if (label == 0)
                    continue;
                for (const auto& s : checked) {
                    if (s.labelValue != label)
                        continue;
                    const Vec3 p = g.lpsFromIjk(
                        Vec3{static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)});
                    const double t = std::clamp(dot(p - a, ab) / dot(ab, ab), 0.0, 1.0);
                    const double slack = distance(a + ab * t, p) - radius - s.marginMm;
                    if (slack < worst)
                        worst = slack, worstName = s.name;
                }
            }
    return worst;
}

} // namespace

TEST(PhantomPlanning, EveryNamedTargetGetsASafeTrajectoryThatKeepsItsMarginsOnTheLabels)
{
    const auto dir = phantomDir();
    if (!std::filesystem::exists(dir / "targets.json"))
        GTEST_SKIP() << "sample phantom not generated at " << dir << " (build the np_sample_phantom target)";
    const imaging::Volume ct = imaging::loadVolume((dir / "dicom").string());
    const imaging::LabelMap labels = imaging::readLabelMap((dir / "structures.seg.nrrd").string());
    const auto targets = readTargets(dir / "targets.json");
    ASSERT_FALSE(targets.empty());
    const BodyModel body = BodyModel::fromCt(ct);
    ClearanceFieldSet fields(labels);
    const double tolerance = labels.geometry().maxSpacing();
    // One set of fields covering every target's reach (the longest preset needle, 127 mm), reused
    // by all the searches below.
    std::vector<Vec3> positions;
    for (const auto& t : targets)
        positions.push_back(t.positionLps);
    fields.prepareRegion(defaultStructures(labels), positions, 127.0 + 5.0);
    const int mapsBefore = fields.computedMapCount();

    for (const auto& target : targets) {
        SCOPED_TRACE(target.name);
        PlanRequest request;
        request.preset = loadPreset(presetForKind(target.kind));
        request.needle = *findNeedle(request.preset.needle);
        request.structures = defaultStructures(labels);
        applyPresetRules(request.preset, request.structures);
        request.targets = {{target.name, target.positionLps}};
        request.options.directionCount = 3000;
        request.options.topK = 3;
        request.options.evaluation.patientPosition = PatientPosition::HFP;
        const PlanOutcome outcome = planTargets(fields, body, request);
        ASSERT_EQ(outcome.plan.targets.size(), 1u);
        const auto& trajectories = outcome.plan.targets[0].trajectories;
        ASSERT_FALSE(trajectories.empty()) << "no trajectory for " << target.name;

        std::vector<StructureSpec> checked;
        for (const auto& s : request.structures)
            if (s.structureClass == StructureClass::Forbidden &&
                (s.name.find("nerve_root") == 0 || s.name == "dura" || s.name == "spinal_canal" ||
                 s.name.find("thecal") != std::string::npos))
                checked.push_back(s);
        ASSERT_FALSE(checked.empty());
        const Vec3 ideal = outcome.searches[0].window.idealOutwardLps;
        // The march never calls a ray feasible that the full evaluation refuses (every 7th checked).
        EXPECT_EQ(outcome.searches[0].rejectedByFullEvaluation, 0);
        TrajectoryEvaluator evaluator(fields, request.structures, &body);
        EvaluationOptions evaluation;
        evaluation.tipZoneMm = request.preset.tipZoneMm;
        int n = 0;
        for (const auto& d : outcome.searches[0].directions)
            if (d.feasible && n++ % 7 == 0) {
                const Evaluation e = evaluator.evaluate(
                    Trajectory{d.skinEntryLps, target.positionLps, request.needle}, evaluation);
                EXPECT_TRUE(e.safe) << (e.reasons.empty() ? "" : e.reasons[0]);
            }
        for (const auto& p : trajectories) {
            EXPECT_TRUE(p.evaluation.safe);
            std::string name;
            const double slack =
                worstLabelSlack(labels, checked, p.trajectory.entryLps, p.trajectory.targetLps,
                                p.trajectory.needle.radiusMm(), name);
            EXPECT_GE(slack, -tolerance) << "passes within the margin of " << name;
            // The approach matches the preset: inside its window, and from behind for posterior presets.
            const Vec3 outward = normalized(p.trajectory.entryLps - p.trajectory.targetLps);
            EXPECT_LE(std::acos(std::min(1.0, dot(outward, ideal))) * 180.0 / M_PI,
                      request.preset.windowDeg + 1e-6);
            if (request.preset.approachFrom == "posterior") {
                EXPECT_GT(p.trajectory.entryLps.y, p.trajectory.targetLps.y + 20.0);
            }
            EXPECT_LE(p.evaluation.depthFromSkinMm, request.needle.usableLengthMm);
        }
    }
    EXPECT_EQ(fields.computedMapCount(), mapsBefore); // nothing recomputed
}
