// The lumbar phantom: options, determinism, anatomy against hand-known facts, targets, variants.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "needleplan/imaging/Error.h"
#include "needleplan/phantom/LumbarPhantom.h"

namespace {

using np::Vec3;
using np::imaging::LabelMap;
using np::phantom::generateLumbarPhantom;
using np::phantom::NamedTarget;
using np::phantom::Phantom;
using np::phantom::PhantomOptions;

const Phantom& defaultPhantom()
{
    static const Phantom phantom = [] {
        PhantomOptions options;
        options.noiseHu = 0.0; // exact tissue values for the HU checks
        return generateLumbarPhantom(options);
    }();
    return phantom;
}

std::string labelName(const LabelMap& labels, std::uint16_t value)
{
    if (value == 0)
        return "";
    for (const auto& s : labels.segments())
        if (s.labelValue == value)
            return s.name;
    return "?";
}

bool nearestIjk(const LabelMap& labels, const Vec3& pointLps, std::int64_t ijk[3])
{
    const Vec3 c = labels.geometry().ijkFromLps(pointLps);
    for (int a = 0; a < 3; ++a) {
        ijk[a] = std::llround(c[a]);
        if (ijk[a] < 0 || ijk[a] >= labels.geometry().size[static_cast<std::size_t>(a)])
            return false;
    }
    return true;
}

/// Structure name of the voxel nearest to an LPS point ("<outside>" beyond the grid).
std::string nameAt(const LabelMap& labels, const Vec3& pointLps)
{
    std::int64_t ijk[3];
    if (!nearestIjk(labels, pointLps, ijk))
        return "<outside>";
    return labelName(labels, labels.at(ijk[0], ijk[1], ijk[2]));
}

float huAt(const Phantom& phantom, const Vec3& pointLps)
{
    std::int64_t ijk[3];
    EXPECT_TRUE(nearestIjk(phantom.labels, pointLps, ijk));
    return phantom.ct.at(ijk[0], ijk[1], ijk[2]);
}

/// Distance from `pointLps` to the nearest voxel centre whose structure satisfies `match`
/// (searching a ball of `radius` mm); infinity when there is none.
template <typename Match>
double distanceTo(const LabelMap& labels, const Vec3& pointLps, double radius, Match match)
{
    const auto& g = labels.geometry();
    const Vec3 c = g.ijkFromLps(pointLps);
    double best = std::numeric_limits<double>::infinity();
    std::int64_t lo[3], hi[3];
    for (int a = 0; a < 3; ++a) {
        const double reach = radius / g.spacing[a] + 1.0;
        lo[a] = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::floor(c[a] - reach)));
        hi[a] = std::min<std::int64_t>(g.size[static_cast<std::size_t>(a)] - 1, static_cast<std::int64_t>(std::ceil(c[a] + reach)));
    }
    for (std::int64_t k = lo[2]; k <= hi[2]; ++k)
        for (std::int64_t j = lo[1]; j <= hi[1]; ++j)
            for (std::int64_t i = lo[0]; i <= hi[0]; ++i) {
                const double d = distance(g.lpsFromIjk({double(i), double(j), double(k)}), pointLps);
                if (d <= radius && d < best && match(labelName(labels, labels.at(i, j, k))))
                    best = d;
            }
    return best;
}

bool isBoneName(const std::string& name)
{
    return name.rfind("vertebra_", 0) == 0 || name == "sacrum" || name.rfind("bone_", 0) == 0;
}

/// Centroid (LPS) of the voxels of one structure.
Vec3 centroidOf(const LabelMap& labels, const std::string& name, std::int64_t* count = nullptr)
{
    const auto* segment = labels.findSegment(name);
    EXPECT_NE(segment, nullptr) << name;
    if (!segment)
        return {};
    const auto& g = labels.geometry();
    Vec3 sum;
    std::int64_t n = 0;
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i)
                if (labels.at(i, j, k) == segment->labelValue) {
                    sum += g.lpsFromIjk({double(i), double(j), double(k)});
                    ++n;
                }
    if (count)
        *count = n;
    return n ? sum / static_cast<double>(n) : Vec3{};
}

const NamedTarget& target(const Phantom& phantom, const std::string& name)
{
    for (const auto& t : phantom.targets)
        if (t.name == name)
            return t;
    ADD_FAILURE() << "no target named " << name;
    static NamedTarget none;
    return none;
}

// ---------------------------------------------------------------- options

TEST(LumbarPhantom, RejectsBadOptions)
{
    auto expectInvalid = [](const PhantomOptions& options) {
        try {
            generateLumbarPhantom(options);
            ADD_FAILURE() << "expected InvalidArgument";
        } catch (const np::Error& e) {
            EXPECT_EQ(e.code(), np::ErrorCode::InvalidArgument) << e.what();
        }
    };
    PhantomOptions o;
    o.spacing = {0.0, 1.0, 1.0};
    expectInvalid(o);
    o.spacing = {1.0, std::nan(""), 1.0};
    expectInvalid(o);
    o = {};
    o.size = {10, -1, 10};
    expectInvalid(o);
    o = {};
    o.patientPosition = "PRONE";
    expectInvalid(o);
    o = {};
    o.noiseHu = -1.0;
    expectInvalid(o);
    o = {};
    o.directionLps = np::Mat3::diagonal({1.0, 2.0, 1.0}); // not orthonormal
    o.spacing = {4.0, 4.0, 4.0};
    EXPECT_THROW(generateLumbarPhantom(o), np::Error);
}

TEST(LumbarPhantom, StructureCatalogueHasTheDocumentedNames)
{
    const auto structures = np::phantom::phantomStructures();
    std::set<std::string> names;
    std::set<std::uint16_t> values;
    for (const auto& s : structures) {
        names.insert(s.name);
        values.insert(s.labelValue);
        EXPECT_NE(s.labelValue, 0);
        for (double c : s.colorRgb)
            EXPECT_TRUE(c >= 0.0 && c <= 1.0);
    }
    EXPECT_EQ(names.size(), structures.size());
    EXPECT_EQ(values.size(), structures.size());
    for (const char* required :
         {"skin", "fat", "body", "muscle", "psoas_left", "psoas_right", "kidney_left", "kidney_right", "aorta", "ivc",
          "vertebra_L3", "vertebra_L4", "vertebra_L5", "sacrum", "spinal_canal", "dura", "nerve_root_L3_left",
          "nerve_root_L3_right", "nerve_root_L4_left", "nerve_root_L4_right", "nerve_root_L5_left", "nerve_root_L5_right",
          "nerve_root_S1_left", "nerve_root_S1_right", "facet_joint_L4_L5_left", "table"})
        EXPECT_EQ(names.count(required), 1u) << required;
}

// ---------------------------------------------------------------- geometry

TEST(LumbarPhantom, DefaultGridIsProneAxialAroundTheAnatomy)
{
    const Phantom& p = defaultPhantom();
    const auto& g = p.ct.geometry();
    EXPECT_EQ(p.ct.info().patientPosition, "HFP");
    EXPECT_EQ(p.ct.info().modality, "CT");
    EXPECT_EQ(g.spacing, (Vec3{0.8, 0.8, 1.0}));
    // What scanners write for a prone patient: rows towards patient right, columns anterior.
    EXPECT_EQ(g.directionLps.column(0), (Vec3{-1, 0, 0}));
    EXPECT_EQ(g.directionLps.column(1), (Vec3{0, -1, 0}));
    EXPECT_EQ(g.directionLps.column(2), (Vec3{0, 0, 1}));
    // The field of view (360 x 260 x 165 mm) is centred on (0, -25, 17.5).
    EXPECT_EQ(g.size, (np::imaging::Size3{450, 325, 165}));
    const Vec3 centre = g.lpsFromIjk({449 / 2.0, 324 / 2.0, 164 / 2.0});
    EXPECT_NEAR(centre.x, 0.0, 1e-9);
    EXPECT_NEAR(centre.y, -25.0, 1e-9);
    EXPECT_NEAR(centre.z, 17.5, 1e-9);
    EXPECT_EQ(p.labels.geometry().size, g.size);
    EXPECT_EQ(p.labels.geometry().originLps, g.originLps);
}

TEST(LumbarPhantom, SameSeedSameVoxelsOtherSeedOtherNoiseOnly)
{
    PhantomOptions o;
    o.spacing = {2.0, 2.0, 2.0};
    const Phantom a = generateLumbarPhantom(o);
    const Phantom b = generateLumbarPhantom(o);
    EXPECT_EQ(a.ct.voxels(), b.ct.voxels());
    EXPECT_EQ(a.labels.labels(), b.labels.labels());
    o.seed = 2;
    const Phantom c = generateLumbarPhantom(o);
    EXPECT_NE(a.ct.voxels(), c.ct.voxels());
    EXPECT_EQ(a.labels.labels(), c.labels.labels());
    // The noise is mild: within sqrt(6) * 10 HU of the noiseless value.
    o.noiseHu = 0.0;
    const Phantom clean = generateLumbarPhantom(o);
    double maxDeviation = 0.0, sumSquares = 0.0;
    for (std::size_t v = 0; v < clean.ct.voxels().size(); ++v) {
        const double d = a.ct.voxels()[v] - clean.ct.voxels()[v];
        maxDeviation = std::max(maxDeviation, std::abs(d));
        sumSquares += d * d;
    }
    EXPECT_LE(maxDeviation, std::sqrt(6.0) * 10.0 + 1e-3);
    EXPECT_NEAR(std::sqrt(sumSquares / static_cast<double>(clean.ct.voxels().size())), 10.0, 0.5);
}

// ---------------------------------------------------------------- anatomy

TEST(LumbarPhantom, VertebralBodiesAreBoneWithCancellousCoreAndCorticalShell)
{
    const Phantom& p = defaultPhantom();
    const std::map<std::string, double> halfDepth = {{"L3", 17.0}, {"L4", 17.5}, {"L5", 18.0}};
    for (const auto& [level, depth] : halfDepth) {
        const Vec3 centre = np::phantom::vertebralBodyCentreLps(level);
        EXPECT_EQ(nameAt(p.labels, centre), std::string("vertebra_") + level);
        const float core = huAt(p, centre);
        EXPECT_GE(core, 200.0f);
        EXPECT_LE(core, 400.0f);
        // 0.5 mm inside the anterior surface: the nearest voxel is 0.1 to 0.9 mm deep, cortical.
        const Vec3 bodyFront = centre + Vec3{0.0, -(depth - 0.5), 0.0};
        EXPECT_EQ(nameAt(p.labels, bodyFront), "vertebra_" + level);
        EXPECT_GE(huAt(p, bodyFront), 1000.0f);
    }
    EXPECT_EQ(nameAt(p.labels, np::phantom::vertebralBodyCentreLps("S1")), "sacrum");
    // Discs between the bodies.
    EXPECT_EQ(nameAt(p.labels, {0.0, 0.0, 18.5}), "disc_L4_L5");
    EXPECT_EQ(nameAt(p.labels, {0.0, 0.0, -18.0}), "disc_L5_S1");
}

TEST(LumbarPhantom, PosteriorElementsLieAtLargerY)
{
    const Phantom& p = defaultPhantom();
    // The L4 spinous process, midline, posterior of the canal.
    EXPECT_EQ(nameAt(p.labels, {0.0, 60.0, 33.0}), "vertebra_L4");
    // The L4 transverse processes reach about 45 mm to each side.
    EXPECT_EQ(nameAt(p.labels, {35.0, 27.0, 40.0}), "vertebra_L4");
    EXPECT_EQ(nameAt(p.labels, {-35.0, 27.0, 40.0}), "vertebra_L4");
    // Pedicles connect body and arch on both sides.
    EXPECT_EQ(nameAt(p.labels, {15.5, 20.0, 41.0}), "vertebra_L4");
    EXPECT_EQ(nameAt(p.labels, {-15.5, 20.0, 41.0}), "vertebra_L4");
}

TEST(LumbarPhantom, CanalHoldsTheThecalSacWithCsf)
{
    const Phantom& p = defaultPhantom();
    for (double z : {74.0, 37.0, 0.0, -30.0}) {
        EXPECT_EQ(nameAt(p.labels, {0.0, 26.0, z}), "dura") << z;
        const float csf = huAt(p, {0.0, 26.0, z});
        EXPECT_GE(csf, 0.0f);
        EXPECT_LE(csf, 15.0f);
        // Epidural fat between the sac and the canal wall (canal semi-axis 11.5, sac 8.5).
        EXPECT_EQ(nameAt(p.labels, {10.0, 26.0, z - 9.0}), "spinal_canal") << z;
    }
}

TEST(LumbarPhantom, GreatVesselsLieAnteriorAorticLeftCavalRight)
{
    const Phantom& p = defaultPhantom();
    const Vec3 aorta = centroidOf(p.labels, "aorta");
    const Vec3 ivc = centroidOf(p.labels, "ivc");
    // Anterior to the bodies (anterior surface at y = -17 .. -18), aorta left (x > 0), IVC right.
    EXPECT_LT(aorta.y, -18.0);
    EXPECT_GT(aorta.x, 5.0);
    EXPECT_LT(ivc.y, -18.0);
    EXPECT_LT(ivc.x, -5.0);
    EXPECT_GT(centroidOf(p.labels, "kidney_left").x, 40.0);
    EXPECT_LT(centroidOf(p.labels, "kidney_right").x, -40.0);
    EXPECT_GT(centroidOf(p.labels, "psoas_left").x, 20.0);
    EXPECT_LT(centroidOf(p.labels, "psoas_right").x, -20.0);
}

TEST(LumbarPhantom, NerveRootsExitLaterallyAndRunAnteriorCaudally)
{
    const Phantom& p = defaultPhantom();
    const std::map<std::string, double> pedicleZ = {{"L3", 78.0}, {"L4", 41.0}, {"L5", 4.0}};
    for (const auto& [level, zPedicle] : pedicleZ)
        for (const char* side : {"left", "right"}) {
            const std::string name = "nerve_root_" + level + "_" + side;
            const double sign = std::string(side) == "left" ? 1.0 : -1.0;
            const auto* segment = p.labels.findSegment(name);
            ASSERT_NE(segment, nullptr);
            const auto& g = p.labels.geometry();
            double maxLateral = 0.0;
            Vec3 lateralEnd, medialEnd{0, 0, 0};
            double minLateral = 1e9;
            for (std::int64_t k = 0; k < g.size[2]; ++k)
                for (std::int64_t j = 0; j < g.size[1]; ++j)
                    for (std::int64_t i = 0; i < g.size[0]; ++i)
                        if (p.labels.at(i, j, k) == segment->labelValue) {
                            const Vec3 q = g.lpsFromIjk({double(i), double(j), double(k)});
                            const double lateral = sign * q.x;
                            EXPECT_GT(lateral, 0.0) << name << " crosses the midline";
                            if (lateral > maxLateral) {
                                maxLateral = lateral;
                                lateralEnd = q;
                            }
                            if (lateral < minLateral) {
                                minLateral = lateral;
                                medialEnd = q;
                            }
                        }
            EXPECT_GT(maxLateral, 40.0) << name;          // leaves the foramen laterally
            EXPECT_LT(lateralEnd.y, medialEnd.y - 20.0) << name; // anteriorly
            EXPECT_LT(lateralEnd.z, zPedicle - 30.0) << name;    // and caudally, below its pedicle
            // In the foramen, below the pedicle: 23 mm lateral, 12 mm under the body centre.
            EXPECT_EQ(nameAt(p.labels, {sign * 23.0, 19.0, zPedicle - 4.0 - 12.0}), name);
        }
    EXPECT_GT(centroidOf(p.labels, "nerve_root_S1_left").x, 5.0);
    EXPECT_LT(centroidOf(p.labels, "nerve_root_S1_right").x, -5.0);
}

TEST(LumbarPhantom, SoftTissueAirAndTableHaveCtValues)
{
    const Phantom& p = defaultPhantom();
    EXPECT_EQ(nameAt(p.labels, {30.0, 60.0, 37.0}), "muscle");
    const float muscle = huAt(p, {30.0, 60.0, 37.0});
    EXPECT_GE(muscle, 40.0f);
    EXPECT_LE(muscle, 60.0f);
    EXPECT_EQ(nameAt(p.labels, {0.0, 88.0, 37.0}), "fat"); // posterior subcutaneous fat
    EXPECT_NEAR(huAt(p, {0.0, 88.0, 37.0}), -100.0f, 1.0f);
    EXPECT_EQ(nameAt(p.labels, {170.0, 90.0, 0.0}), ""); // air outside the body
    EXPECT_NEAR(huAt(p, {170.0, 90.0, 0.0}), -1000.0f, 1.0f);
    // Prone: the table touches the anterior skin (skin at y = -135 on the midline).
    EXPECT_EQ(nameAt(p.labels, {0.0, -134.4, 17.0}), "skin");
    EXPECT_EQ(nameAt(p.labels, {0.0, -136.0, 17.0}), "table");
    EXPECT_EQ(nameAt(p.labels, {0.0, 100.0, 17.0}), ""); // air behind the back
}

TEST(LumbarPhantom, AnalyticStructureLookupMatchesTheVoxels)
{
    EXPECT_EQ(np::phantom::structureAt({0.0, 0.0, 37.0}), "vertebra_L4");
    EXPECT_EQ(np::phantom::structureAt({0.0, 26.0, 37.0}), "dura");
    EXPECT_EQ(np::phantom::structureAt({0.0, -1000.0, 0.0}), "");
    const Phantom& p = defaultPhantom();
    const auto& g = p.labels.geometry();
    int mismatches = 0, checked = 0;
    for (std::int64_t k = 3; k < g.size[2]; k += 17)
        for (std::int64_t j = 5; j < g.size[1]; j += 23)
            for (std::int64_t i = 7; i < g.size[0]; i += 29, ++checked)
                mismatches += labelName(p.labels, p.labels.at(i, j, k)) !=
                              np::phantom::structureAt(g.lpsFromIjk({double(i), double(j), double(k)}));
    EXPECT_GT(checked, 1000);
    EXPECT_EQ(mismatches, 0);
}

// ---------------------------------------------------------------- targets

TEST(LumbarPhantom, TargetCatalogueCoversLevelsSidesAndKinds)
{
    const Phantom& p = defaultPhantom();
    std::set<std::string> names;
    for (const auto& t : p.targets) {
        EXPECT_TRUE(names.insert(t.name).second) << "duplicate " << t.name;
        EXPECT_TRUE(t.side == "left" || t.side == "right") << t.name;
        EXPECT_FALSE(t.kind.empty());
        EXPECT_FALSE(t.level.empty());
    }
    for (const char* side : {"left", "right"}) {
        const std::string s = side;
        for (const char* nerve : {"L2", "L3", "L4"})
            EXPECT_TRUE(names.count(std::string(nerve) + " medial branch " + s + " (SAP-TP junction)")) << nerve << s;
        for (const char* joint : {"L3-L4", "L4-L5", "L5-S1"})
            EXPECT_TRUE(names.count(std::string(joint) + " facet " + s)) << joint << s;
        for (const char* level : {"L3", "L4", "L5"})
            EXPECT_TRUE(names.count(std::string(level) + " transforaminal " + s + " (safe triangle)")) << level << s;
        EXPECT_TRUE(names.count("L5 dorsal ramus " + s));
    }
}

TEST(LumbarPhantom, MedialBranchTargetsSitOnTheBoneSurfaceAtTheSapTpJunction)
{
    const Phantom& p = defaultPhantom();
    const std::map<std::string, std::string> vertebraOfNerve = {{"L2", "L3"}, {"L3", "L4"}, {"L4", "L5"}};
    for (const auto& [nerve, vertebraName] : vertebraOfNerve)
        for (const char* side : {"left", "right"}) {
            const std::string vertebra = vertebraName; // a lambda may not capture a structured binding (C++17)
            const NamedTarget& t = target(p, nerve + " medial branch " + side + " (SAP-TP junction)");
            const double sign = std::string(side) == "left" ? 1.0 : -1.0;
            const Vec3 body = np::phantom::vertebralBodyCentreLps(vertebra);
            // Outside bone in the analytic model, and bone of the right vertebra within 1 mm
            // (plus half a voxel diagonal, 0.66 mm, for the voxel-centre search).
            EXPECT_FALSE(isBoneName(np::phantom::structureAt(t.positionLps))) << t.name;
            const double toBone = distanceTo(p.labels, t.positionLps, 3.0,
                                             [&](const std::string& n) { return n == "vertebra_" + vertebra; });
            EXPECT_LT(toBone, 1.0 + 0.66) << t.name;
            // Lateral to the pedicle, at the level of the transverse process (its centre 3 mm
            // above the body centre), behind the body.
            EXPECT_GT(sign * t.positionLps.x, 18.0) << t.name;
            EXPECT_LT(sign * t.positionLps.x, 32.0) << t.name;
            EXPECT_GT(t.positionLps.z - body.z, 3.0) << t.name;
            EXPECT_LT(t.positionLps.z - body.z, 16.0) << t.name;
            EXPECT_GT(t.positionLps.y, 22.0) << t.name;
            // Both the SAP (above the TP, posterior) and the TP are close: bone within 3 mm
            // straight below (TP) and medially (SAP).
            EXPECT_LT(distanceTo(p.labels, t.positionLps - Vec3{0, 0, 1.5}, 1.6, isBoneName), 1.7) << t.name;
            EXPECT_LT(distanceTo(p.labels, t.positionLps - Vec3{sign * 2.0, 0, 0}, 2.1, isBoneName), 2.2) << t.name;
            EXPECT_EQ(t.kind, "medial_branch");
        }
}

TEST(LumbarPhantom, FacetTargetsLieInTheJointGapBetweenTheArticularProcesses)
{
    const Phantom& p = defaultPhantom();
    const std::pair<std::string, std::string> joints[] = {{"L3", "L4"}, {"L4", "L5"}, {"L5", "S1"}};
    for (const auto& [upper, lower] : joints)
        for (const char* side : {"left", "right"}) {
            const NamedTarget& t = target(p, upper + "-" + lower + " facet " + side);
            const double sign = std::string(side) == "left" ? 1.0 : -1.0;
            EXPECT_EQ(nameAt(p.labels, t.positionLps), "facet_joint_" + upper + "_" + lower + "_" + side) << t.name;
            // The joint normal points from the IAP (posteromedial) to the SAP (anterolateral).
            const Vec3 normal = normalized(Vec3{sign, -1.0, 0.0});
            const std::string upperBone = "vertebra_" + upper;
            const std::string lowerBone = lower == "S1" ? "sacrum" : "vertebra_" + lower;
            EXPECT_EQ(nameAt(p.labels, t.positionLps - normal * 2.5), upperBone) << t.name;
            EXPECT_EQ(nameAt(p.labels, t.positionLps + normal * 2.5), lowerBone) << t.name;
            EXPECT_EQ(t.kind, "facet_joint");
        }
}

TEST(LumbarPhantom, DorsalRamusTargetsSitInTheAlarGroove)
{
    const Phantom& p = defaultPhantom();
    for (const char* side : {"left", "right"}) {
        const NamedTarget& t = target(p, std::string("L5 dorsal ramus ") + side);
        const double sign = std::string(side) == "left" ? 1.0 : -1.0;
        EXPECT_FALSE(isBoneName(np::phantom::structureAt(t.positionLps)));
        EXPECT_LT(distanceTo(p.labels, t.positionLps, 3.0, [](const std::string& n) { return n == "sacrum"; }), 1.66);
        // Above the ala (upper surface at z = -29), lateral to the S1 SAP.
        EXPECT_GT(sign * t.positionLps.x, 18.0);
        EXPECT_NEAR(t.positionLps.z, -28.0, 4.0);
        EXPECT_EQ(t.level, "L5");
    }
}

TEST(LumbarPhantom, TransforaminalTargetsSitInTheSafeTriangle)
{
    const Phantom& p = defaultPhantom();
    for (const char* level : {"L3", "L4", "L5"})
        for (const char* side : {"left", "right"}) {
            const NamedTarget& t = target(p, std::string(level) + " transforaminal " + side + " (safe triangle)");
            const std::string here = nameAt(p.labels, t.positionLps);
            EXPECT_FALSE(isBoneName(here)) << t.name << " in " << here;
            EXPECT_EQ(here.find("nerve_root"), std::string::npos) << t.name;
            EXPECT_NE(here, "dura");
            EXPECT_NE(here, "spinal_canal");
            const std::string root = std::string("nerve_root_") + level + "_" + side;
            const double toRoot = distanceTo(p.labels, t.positionLps, 8.0, [&](const std::string& n) { return n == root; });
            EXPECT_GT(toRoot, 1.5) << t.name;
            EXPECT_LT(toRoot, 6.0) << t.name;
            // The pedicle of the same vertebra lies just above.
            const std::string bone = std::string("vertebra_") + level;
            EXPECT_LT(distanceTo(p.labels, t.positionLps + Vec3{0, 0, 4.0}, 2.5,
                                 [&](const std::string& n) { return n == bone; }),
                      2.5)
                << t.name;
        }
}

// ---------------------------------------------------------------- variants

TEST(LumbarPhantom, PatientPositionsSetTheScannerOrientation)
{
    const std::map<std::string, std::pair<Vec3, Vec3>> expected = {
        {"HFS", {{1, 0, 0}, {0, 1, 0}}}, {"HFP", {{-1, 0, 0}, {0, -1, 0}}},
        {"FFS", {{-1, 0, 0}, {0, 1, 0}}}, {"FFP", {{1, 0, 0}, {0, -1, 0}}}};
    for (const auto& [position, columns] : expected) {
        PhantomOptions o;
        o.patientPosition = position;
        o.spacing = {3.0, 3.0, 3.0};
        const Phantom p = generateLumbarPhantom(o);
        const auto& g = p.ct.geometry();
        EXPECT_EQ(g.directionLps.column(0), columns.first) << position;
        EXPECT_EQ(g.directionLps.column(1), columns.second) << position;
        EXPECT_EQ(g.directionLps.column(2), cross(columns.first, columns.second)) << position;
        EXPECT_EQ(p.ct.info().patientPosition, position);
        // The anatomy stays put in LPS whatever the position.
        EXPECT_EQ(nameAt(p.labels, {0.0, 0.0, 37.0}), "vertebra_L4") << position;
        EXPECT_EQ(nameAt(p.labels, {0.0, 26.0, 37.0}), "dura") << position;
    }
}

TEST(LumbarPhantom, ObliqueAnisotropicGridSamplesTheSameAnatomy)
{
    PhantomOptions o;
    o.spacing = {0.9, 1.3, 1.7};
    o.obliqueDeg = 25.0;
    const Phantom p = generateLumbarPhantom(o);
    const auto& g = p.ct.geometry();
    g.validate("oblique phantom");
    // Rotated away from the prone axial grid: no direction column is axis-aligned.
    for (int c = 0; c < 3; ++c) {
        const Vec3 d = g.directionLps.column(c);
        EXPECT_LT(std::max({std::abs(d.x), std::abs(d.y), std::abs(d.z)}), 0.999) << c;
    }
    // The rotation keeps the field centre.
    const Vec3 centre = g.lpsFromIjk({(g.size[0] - 1) / 2.0, (g.size[1] - 1) / 2.0, (g.size[2] - 1) / 2.0});
    EXPECT_NEAR(distance(centre, {0.0, -25.0, 17.5}), 0.0, 1e-9);
    EXPECT_EQ(nameAt(p.labels, {0.0, 0.0, 37.0}), "vertebra_L4");
    EXPECT_EQ(nameAt(p.labels, {0.0, 26.0, 37.0}), "dura");
    EXPECT_GT(centroidOf(p.labels, "aorta").x, 5.0);
    // Targets are anatomical, independent of the grid.
    const Phantom& reference = defaultPhantom();
    ASSERT_EQ(p.targets.size(), reference.targets.size());
    for (std::size_t n = 0; n < p.targets.size(); ++n)
        EXPECT_EQ(p.targets[n].positionLps, reference.targets[n].positionLps);
}

TEST(LumbarPhantom, ExplicitSizeKeepsTheAnatomyCentred)
{
    PhantomOptions o;
    o.spacing = {2.0, 2.0, 2.0};
    o.size = {40, 30, 50}; // crops the field to 80 x 60 x 100 mm around its centre
    const Phantom p = generateLumbarPhantom(o);
    EXPECT_EQ(p.ct.geometry().size, (np::imaging::Size3{40, 30, 50}));
    const Vec3 centre = p.ct.geometry().lpsFromIjk({19.5, 14.5, 24.5});
    EXPECT_NEAR(distance(centre, {0.0, -25.0, 17.5}), 0.0, 1e-9);
    EXPECT_EQ(nameAt(p.labels, {0.0, 0.0, 37.0}), "vertebra_L4");
    EXPECT_EQ(nameAt(p.labels, {12.0, -30.0, 50.0}), "aorta");
    EXPECT_EQ(nameAt(p.labels, {0.0, 26.0, 0.0}), "<outside>"); // cropped away
}

} // namespace
