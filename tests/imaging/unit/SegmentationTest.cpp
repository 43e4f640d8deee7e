// Automatic segmentation on synthetic CTs whose true structures are known in closed form.

#include "needleplan/imaging/Segmentation.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"

#include <atomic>
#include <cmath>
#include <gtest/gtest.h>

namespace np::imaging {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Body: elliptic cylinder (semi-axes 60 mm along L, 45 mm along P) around the S axis, soft tissue
// 40 HU. Inside: a "vertebra" ring (outer radius 14 mm, canal radius 6 mm) centred at P = +20 mm
// with a 2 mm cortical shell of 1000 HU around 300 HU cancellous bone; a 12 mm radius "lung"
// cylinder of -850 HU at L = -30 mm. Under the body a 2 mm thick table of 0 HU that touches the
// skin along a 6 mm wide strip.
struct Truth
{
    static bool body(const Vec3& p)
    {
        return (p.x / 60.0) * (p.x / 60.0) + (p.y / 45.0) * (p.y / 45.0) <= 1.0;
    }
    static double vertebraRadius(const Vec3& p) { return std::hypot(p.x, p.y - 20.0); }
    static bool bone(const Vec3& p)
    {
        return body(p) && vertebraRadius(p) <= 14.0 && vertebraRadius(p) >= 6.0;
    }
    static bool lung(const Vec3& p) { return std::hypot(p.x + 30.0, p.y) <= 12.0; }
    // The table lies posterior (P = +48..+50) and a bridge connects it to the skin near L = 0.
    static bool table(const Vec3& p) { return p.y >= 48.0 && p.y <= 50.0 && std::abs(p.x) <= 80.0; }
    static bool bridge(const Vec3& p)
    {
        return std::abs(p.x) <= 3.0 && p.y >= 40.0 && p.y < 48.0 && !body(p);
    }
    static float hu(const Vec3& p)
    {
        if (body(p)) {
            if (lung(p))
                return -850.0f;
            const double r = vertebraRadius(p);
            if (r <= 14.0 && r >= 6.0)
                return (r >= 12.0 || r <= 8.0) ? 1000.0f : 300.0f;
            return 40.0f;
        }
        if (table(p) || bridge(p))
            return 0.0f;
        return -1000.0f;
    }
};

Volume makeCt(const Vec3& spacing, const Mat3& direction, Size3 size)
{
    Geometry g;
    g.size = size;
    g.spacing = spacing;
    g.directionLps = direction;
    // Centre the grid on the LPS origin.
    const Vec3 halfExtentIjk{(size[0] - 1) / 2.0, (size[1] - 1) / 2.0, (size[2] - 1) / 2.0};
    g.originLps = Vec3{} - g.lpsFromIjkLinear() * halfExtentIjk;
    Volume ct(g, -1000.0f);
    for (std::int64_t k = 0; k < size[2]; ++k)
        for (std::int64_t j = 0; j < size[1]; ++j)
            for (std::int64_t i = 0; i < size[0]; ++i)
                ct.at(i, j, k) = Truth::hu(g.lpsFromIjk({double(i), double(j), double(k)}));
    return ct;
}

template <typename Predicate>
double dice(const StructureMask& mask, const Geometry& g, const Predicate& truth)
{
    std::int64_t both = 0, a = 0, b = 0;
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i) {
                const bool inMask =
                    mask.voxels[static_cast<std::size_t>(i + g.size[0] * (j + g.size[1] * k))] != 0;
                const bool inTruth = truth(g.lpsFromIjk({double(i), double(j), double(k)}));
                both += inMask && inTruth;
                a += inMask;
                b += inTruth;
            }
    return a + b == 0 ? 1.0 : 2.0 * double(both) / double(a + b);
}

Mat3 obliqueDirection()
{
    // Rotation of 20 degrees about S followed by 15 degrees about L: columns stay orthonormal.
    const double a = 20.0 * kPi / 180.0, b = 15.0 * kPi / 180.0;
    const Mat3 aboutS{{std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a), 0, 0, 0, 1}};
    const Mat3 aboutL{{1, 0, 0, 0, std::cos(b), -std::sin(b), 0, std::sin(b), std::cos(b)}};
    return aboutL * aboutS;
}

class CancelAfter : public ProgressSink
{
public:
    explicit CancelAfter(int reports) : m_left(reports) {}
    void report(double, const std::string&) override { --m_left; }
    bool cancelRequested() const override { return m_left <= 0; }

private:
    std::atomic<int> m_left;
};

TEST(Segmentation, RejectsEmptyVolume)
{
    EXPECT_THROW(segmentStructures(Volume{}), Error);
}

TEST(Segmentation, RejectsNegativeOption)
{
    const Volume ct = makeCt({2, 2, 2}, Mat3::identity(), {20, 20, 4});
    SegmentationOptions options;
    options.tableRemovalRadiusMm = -1.0;
    try {
        segmentStructures(ct, options);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
        EXPECT_NE(std::string(e.what()).find("tableRemovalRadiusMm"), std::string::npos);
    }
}

TEST(Segmentation, SelectStructuresParsesListAndRejectsUnknownName)
{
    SegmentationOptions options;
    selectStructures(options, "bone, body");
    EXPECT_TRUE(options.body);
    EXPECT_TRUE(options.bone);
    EXPECT_FALSE(options.lung);
    EXPECT_THROW(selectStructures(options, "body,liver"), Error);
    EXPECT_THROW(selectStructures(options, " , "), Error);
}

TEST(Segmentation, AllAirGivesEmptyBodyWithWarning)
{
    Geometry g;
    g.size = {16, 16, 4};
    const Volume ct(g, -1000.0f);
    const StructureSet set = segmentStructures(ct);
    ASSERT_NE(set.find("body"), nullptr);
    EXPECT_EQ(set.find("body")->voxelCount(), 0);
    EXPECT_EQ(set.find("lung"), nullptr);
    EXPECT_FALSE(set.warnings().empty());
}

TEST(Segmentation, CancelStopsTheWork)
{
    const Volume ct = makeCt({2, 2, 2}, Mat3::identity(), {70, 60, 6});
    CancelAfter sink(2);
    try {
        segmentStructures(ct, {}, &sink);
        FAIL() << "expected cancellation";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Cancelled);
    }
}

struct Variant
{
    const char* name;
    Vec3 spacing;
    Mat3 direction;
    Size3 size;
};

void PrintTo(const Variant& v, std::ostream* out)
{
    *out << v.name;
}

class SegmentationVariants : public ::testing::TestWithParam<Variant>
{
};

TEST_P(SegmentationVariants, BodyBoneAndLungMatchTheAnalyticShapes)
{
    const Variant v = GetParam();
    const Volume ct = makeCt(v.spacing, v.direction, v.size);
    SegmentationOptions options;
    options.lungMinVolumeMl = 1.0; // the synthetic lung is a short 12 mm cylinder (a few ml)
    const StructureSet set = segmentStructures(ct, options);
    const Geometry& g = ct.geometry();
    ASSERT_NE(set.find("body"), nullptr);
    ASSERT_NE(set.find("bone"), nullptr);
    ASSERT_NE(set.find("lung"), nullptr);
    // The body includes the internal air (holes are filled) and excludes table and bridge.
    EXPECT_GE(dice(*set.find("body"), g, Truth::body), 0.97) << v.name;
    EXPECT_GE(dice(*set.find("bone"), g, Truth::bone), 0.95) << v.name;
    EXPECT_GE(dice(*set.find("lung"), g, [](const Vec3& p) { return Truth::body(p) && Truth::lung(p); }), 0.9)
        << v.name;
    std::int64_t tableInBody = 0, canalInBone = 0, lungOutsideBody = 0;
    const auto& body = set.find("body")->voxels;
    const auto& bone = set.find("bone")->voxels;
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i) {
                const Vec3 p = g.lpsFromIjk({double(i), double(j), double(k)});
                const auto index = static_cast<std::size_t>(i + g.size[0] * (j + g.size[1] * k));
                tableInBody += Truth::table(p) && body[index];
                canalInBone += Truth::vertebraRadius(p) < 5.0 && bone[index];
                lungOutsideBody += Truth::lung(p) && Truth::body(p) && !body[index];
            }
    EXPECT_EQ(tableInBody, 0) << v.name;
    EXPECT_EQ(lungOutsideBody, 0) << "internal air is filled into the body: " << v.name;
    EXPECT_EQ(canalInBone, 0) << "the spinal canal must not be filled as marrow: " << v.name;
}

INSTANTIATE_TEST_SUITE_P(
    Grids, SegmentationVariants,
    ::testing::Values(Variant{"isotropic", {1.0, 1.0, 1.0}, Mat3::identity(), {150, 120, 8}},
                      Variant{"anisotropic", {0.7, 0.9, 2.5}, Mat3::identity(), {210, 130, 6}},
                      Variant{"oblique", {0.9, 0.9, 1.2}, obliqueDirection(), {170, 150, 30}}),
    [](const ::testing::TestParamInfo<Variant>& param) { return std::string(param.param.name); });

TEST(Segmentation, LungAbsentGivesWarningAndNoSegment)
{
    Volume ct = makeCt({2, 2, 2}, Mat3::identity(), {70, 60, 6});
    for (float& hu : ct.voxels())
        if (hu == -850.0f)
            hu = 40.0f;
    const StructureSet set = segmentStructures(ct);
    EXPECT_EQ(set.find("lung"), nullptr);
    bool warned = false;
    for (const auto& w : set.warnings())
        warned = warned || w.find("no lung") != std::string::npos;
    EXPECT_TRUE(warned);
}

TEST(Segmentation, OnlySelectedStructuresAreReturned)
{
    const Volume ct = makeCt({2, 2, 2}, Mat3::identity(), {70, 60, 6});
    SegmentationOptions options;
    selectStructures(options, "bone");
    const StructureSet set = segmentStructures(ct, options);
    ASSERT_EQ(set.structures().size(), 1u);
    EXPECT_EQ(set.structures()[0].segment.name, "bone");
}

TEST(Segmentation, HigherBoneThresholdKeepsOnlyCorticalShell)
{
    const Volume ct = makeCt({1, 1, 1}, Mat3::identity(), {150, 120, 4});
    SegmentationOptions options;
    options.boneThresholdHu = 500.0f;
    options.boneMaxHoleAreaMm2 = 0.0;
    options.marrowMaxHoleAreaMm2 = 0.0;
    options.boneEdgeHu = 500.0f;
    const StructureSet set = segmentStructures(ct, options);
    // Cortical shells: 12..14 mm and 6..8 mm annuli; cancellous 8..12 mm is excluded.
    const double shellArea = kPi * (14.0 * 14.0 - 12.0 * 12.0) + kPi * (8.0 * 8.0 - 6.0 * 6.0);
    const double measured = double(set.find("bone")->voxelCount()) / 4.0;
    EXPECT_NEAR(measured, shellArea, 0.1 * shellArea);
}

class SolidTable : public ::testing::TestWithParam<bool>
{
};

TEST_P(SolidTable, UnderABroadContactItIsDropped)
{
    // A prone-style scene: an elliptic body (semi-axes 60 x 40 mm) resting on a 20 mm slab of
    // 150 HU that spans the field of view; the slab touches the body along its lowest line. With
    // the parameter set, voxels outside a reconstruction circle of radius 78 mm hold the padding
    // value -3024, which cuts the slab's corners.
    const bool circle = GetParam();
    Geometry g;
    g.size = {160, 110, 6};
    g.spacing = {1.0, 1.0, 2.0};
    g.originLps = {-79.5, -60.5, 0.0};
    Volume ct(g, -1000.0f);
    std::int64_t bodyVoxels = 0;
    for (std::int64_t k = 0; k < 6; ++k)
        for (std::int64_t j = 0; j < 110; ++j)
            for (std::int64_t i = 0; i < 160; ++i) {
                const Vec3 p = g.lpsFromIjk({double(i), double(j), double(k)});
                const bool body =
                    (p.x / 60.0) * (p.x / 60.0) + ((p.y + 10.0) / 40.0) * ((p.y + 10.0) / 40.0) <= 1.0;
                if (circle && std::hypot(p.x, p.y + 5.0) > 78.0) {
                    ct.at(i, j, k) = -3024.0f;
                } else if (body) {
                    ct.at(i, j, k) = 40.0f;
                    ++bodyVoxels;
                } else if (p.y >= 30.0) {
                    ct.at(i, j, k) = 150.0f + float((i * 7 + j * 3) % 21) - 10.0f; // table with noise
                }
            }
    const StructureSet set = segmentStructures(ct);
    EXPECT_EQ(set.find("body")->voxelCount(), bodyVoxels);
    EXPECT_EQ(set.find("bone")->voxelCount(), 0);
    bool noted = false;
    for (const auto& w : set.warnings())
        noted = noted || w.find("table slab") != std::string::npos;
    EXPECT_TRUE(noted);
}

INSTANTIATE_TEST_SUITE_P(FieldOfView, SolidTable, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param) {
                             return std::string(param.param ? "reconstructionCircle" : "fullSquare");
                         });

TEST(Segmentation, FieldOfViewInsideTheBodyIsNotMistakenForATable)
{
    // A small field of view wholly inside soft tissue: every layer is full, which is no table.
    Geometry g;
    g.size = {40, 40, 4};
    Volume ct(g, 40.0f);
    SegmentationOptions options;
    selectStructures(options, "body");
    const StructureSet set = segmentStructures(ct, options);
    EXPECT_EQ(set.find("body")->voxelCount(), g.voxelCount());
}

TEST(Segmentation, FullLayersThinningOutTowardsTheSkinAreNoTable)
{
    // The field of view (x -50..50, y 150..199 mm) lies inside a body of radius 200 mm centred at
    // the origin: the layers are full up to y = 194 and then thin out over a few millimetres
    // towards the skin; nothing may be removed as a table.
    Geometry g;
    g.size = {101, 50, 3};
    g.originLps = {-50.0, 150.0, 0.0};
    Volume ct(g, -1000.0f);
    std::int64_t inside = 0;
    for (std::int64_t k = 0; k < 3; ++k)
        for (std::int64_t j = 0; j < 50; ++j)
            for (std::int64_t i = 0; i < 101; ++i) {
                const Vec3 p = g.lpsFromIjk({double(i), double(j), double(k)});
                if (std::hypot(p.x, p.y) <= 200.0) {
                    ct.at(i, j, k) = 40.0f;
                    ++inside;
                }
            }
    SegmentationOptions options;
    selectStructures(options, "body");
    const StructureSet set = segmentStructures(ct, options);
    EXPECT_EQ(set.find("body")->voxelCount(), inside);
    for (const auto& w : set.warnings())
        EXPECT_EQ(w.find("table slab"), std::string::npos) << w;
}

TEST(Segmentation, CancellousBoneBelowTheThresholdIsFilledAsMarrow)
{
    // Osteoporotic bone: the 8..12 mm cancellous annulus reads 100 HU, under the 150 HU bone
    // threshold, inside its 1000 HU cortical shells; the canal (r < 6 mm, 40 HU) stays open.
    Volume ct = makeCt({1.0, 1.0, 1.0}, Mat3::identity(), {150, 120, 6});
    for (float& hu : ct.voxels())
        if (hu == 300.0f)
            hu = 100.0f;
    SegmentationOptions options;
    selectStructures(options, "bone");
    const StructureSet set = segmentStructures(ct, options);
    ASSERT_NE(set.find("bone"), nullptr);
    EXPECT_GE(dice(*set.find("bone"), ct.geometry(), Truth::bone), 0.95);
    const Geometry& g = ct.geometry();
    std::int64_t canalInBone = 0;
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i)
                canalInBone +=
                    Truth::vertebraRadius(g.lpsFromIjk({double(i), double(j), double(k)})) < 5.0 &&
                    set.find("bone")->voxels[static_cast<std::size_t>(i + g.size[0] * (j + g.size[1] * k))];
    EXPECT_EQ(canalInBone, 0);
}

/// An abdomen without thorax (2 mm voxels, 60 slices, z 0..118 mm): an elliptic body of soft
/// tissue holding gas pockets. `air(p)` gives the HU of a pocket at p, or NaN outside pockets.
template <typename Pockets> Volume makeAbdomen(const Pockets& pockets, std::int64_t slices = 60)
{
    Geometry g;
    g.size = {120, 100, slices};
    g.spacing = {2.0, 2.0, 2.0};
    g.originLps = {-119.0, -99.0, 0.0};
    Volume ct(g, -1000.0f);
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i) {
                const Vec3 p = g.lpsFromIjk({double(i), double(j), double(k)});
                if ((p.x / 110.0) * (p.x / 110.0) + (p.y / 85.0) * (p.y / 85.0) > 1.0)
                    continue;
                const double pocket = pockets(p, i, j, k);
                ct.at(i, j, k) = std::isnan(pocket) ? 40.0f : float(pocket);
            }
    return ct;
}

/// Deterministic noise in [-amplitude, amplitude].
double noise(std::int64_t i, std::int64_t j, std::int64_t k, double amplitude)
{
    const auto h = static_cast<std::uint32_t>((i * 73856093) ^ (j * 19349663) ^ (k * 83492791));
    return amplitude * (double(h % 2001) / 1000.0 - 1.0);
}

TEST(Segmentation, BowelGasIsNeverLung)
{
    // Colon gas (a 30 mm radius tube, pure gas), stomach gas reaching the top of the field of
    // view, and stool mixed with gas (about -700 HU): all bowel gas, none of it lung.
    const auto pockets = [](const Vec3& p, std::int64_t i, std::int64_t j, std::int64_t k) {
        if (std::hypot(p.x + 50.0, p.y) <= 30.0 && p.z >= 10.0 && p.z <= 90.0)
            return -1000.0 + noise(i, j, k, 30.0);
        if (std::hypot(p.x - 50.0, p.y + 20.0) <= 25.0 && p.z >= 70.0)
            return -1000.0 + noise(i, j, k, 30.0);
        if (std::hypot(p.x - 40.0, p.y - 40.0) <= 20.0 && p.z >= 10.0 && p.z <= 60.0)
            return -700.0 + noise(i, j, k, 200.0);
        return std::nan("");
    };
    const Volume ct = makeAbdomen(pockets);
    const StructureSet set = segmentStructures(ct);
    EXPECT_EQ(set.find("lung"), nullptr) << "no voxel may be called lung";
    ASSERT_NE(set.find("bowel_gas"), nullptr);
    // Every gas voxel (below the -400 HU air threshold) is bowel gas, and nothing else.
    const Geometry& g = ct.geometry();
    std::int64_t gas = 0, gasFound = 0;
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i) {
                const auto v = static_cast<std::size_t>(i + g.size[0] * (j + g.size[1] * k));
                const bool isGas =
                    !std::isnan(pockets(g.lpsFromIjk({double(i), double(j), double(k)}), i, j, k)) &&
                    ct.voxels()[v] < -400.0f;
                gas += isGas;
                gasFound += isGas && set.find("bowel_gas")->voxels[v];
            }
    EXPECT_EQ(set.find("bowel_gas")->voxelCount(), gas);
    EXPECT_EQ(gasFound, gas);
    bool noted = false;
    for (const auto& w : set.warnings())
        noted = noted || w.find("bowel gas, not lung") != std::string::npos;
    EXPECT_TRUE(noted);
}

TEST(Segmentation, LungBasesAtTheTopOfAnAbdomenAreLungAndTheStomachGasIsNot)
{
    // Two lung bases (aerated, -850 HU with vessels of 40 HU) cut by the top of the field of
    // view above the diaphragm, stomach gas under it that also reaches the top.
    const auto inLung = [](const Vec3& p) {
        for (const double side : {-1.0, 1.0}) {
            const double dx = (p.x - side * 60.0) / 40.0, dy = p.y / 50.0, dz = (p.z - 150.0) / 80.0;
            if (dx * dx + dy * dy + dz * dz <= 1.0)
                return true;
        }
        return false;
    };
    const auto pockets = [&](const Vec3& p, std::int64_t i, std::int64_t j, std::int64_t k) {
        if (inLung(p))
            return (i % 7 == 0 && j % 5 == 0) ? 40.0 : -850.0 + noise(i, j, k, 40.0);
        if (std::hypot(p.x, p.y + 40.0) <= 15.0 && p.z >= 60.0)
            return -1000.0 + noise(i, j, k, 30.0);
        return std::nan("");
    };
    const Volume ct = makeAbdomen(pockets);
    const StructureSet set = segmentStructures(ct);
    ASSERT_NE(set.find("lung"), nullptr);
    ASSERT_NE(set.find("bowel_gas"), nullptr);
    const Geometry& g = ct.geometry();
    std::int64_t lungTruth = 0, lungFound = 0, stomachAsLung = 0, lungAsGas = 0;
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i) {
                const Vec3 p = g.lpsFromIjk({double(i), double(j), double(k)});
                const auto v = static_cast<std::size_t>(i + g.size[0] * (j + g.size[1] * k));
                const bool lung = inLung(p);
                lungTruth += lung;
                lungFound += lung && set.find("lung")->voxels[v];
                stomachAsLung += !lung && set.find("lung")->voxels[v];
                lungAsGas += lung && set.find("bowel_gas")->voxels[v];
            }
    EXPECT_EQ(stomachAsLung, 0);
    EXPECT_EQ(lungAsGas, 0);
    EXPECT_GE(double(lungFound), 0.98 * double(lungTruth)); // the vessels are filled in per slice
}

TEST(Segmentation, LungsEndingInTheTracheaAreLung)
{
    // A chest: two lungs wholly in view joined by bronchi to a trachea (pure air, 8 mm radius)
    // that leaves through the top of the body; a gas pocket lower down is bowel gas.
    const auto pockets = [](const Vec3& p, std::int64_t i, std::int64_t j, std::int64_t k) {
        for (const double side : {-1.0, 1.0}) {
            const double dx = (p.x - side * 55.0) / 40.0, dy = p.y / 50.0, dz = (p.z - 60.0) / 40.0;
            if (dx * dx + dy * dy + dz * dz <= 1.0)
                return -850.0 + noise(i, j, k, 40.0);
        }
        if (std::hypot(p.x, p.y) <= 8.0 && p.z >= 70.0 && p.z <= 110.0)
            return -1000.0;
        if (std::abs(p.z - 70.0) <= 5.0 && std::abs(p.y) <= 5.0 && std::abs(p.x) <= 40.0)
            return -1000.0; // main bronchi
        if (std::hypot(p.x, p.y + 50.0) <= 12.0 && p.z <= 16.0 && p.z >= 2.0)
            return -1000.0 + noise(i, j, k, 30.0);
        return std::nan("");
    };
    const Volume ct = makeAbdomen(pockets, 60);
    const StructureSet set = segmentStructures(ct);
    ASSERT_NE(set.find("lung"), nullptr);
    ASSERT_NE(set.find("bowel_gas"), nullptr);
    const Geometry& g = ct.geometry();
    std::int64_t pocketAsLung = 0, lungMissed = 0;
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i) {
                const Vec3 p = g.lpsFromIjk({double(i), double(j), double(k)});
                const auto v = static_cast<std::size_t>(i + g.size[0] * (j + g.size[1] * k));
                const bool pocket = std::hypot(p.x, p.y + 50.0) <= 12.0 && p.z <= 16.0;
                pocketAsLung += pocket && set.find("lung")->voxels[v];
                const bool inBody = (p.x / 110.0) * (p.x / 110.0) + (p.y / 85.0) * (p.y / 85.0) <= 1.0;
                lungMissed += inBody && !pocket && ct.voxels()[v] < -400.0f && !set.find("lung")->voxels[v];
            }
    EXPECT_EQ(pocketAsLung, 0);
    EXPECT_EQ(lungMissed, 0);
}

TEST(Segmentation, SelectStructuresKnowsTheSpineAndGas)
{
    SegmentationOptions options;
    selectStructures(options, "spinal_canal,levels,bowel_gas");
    EXPECT_TRUE(options.spinalCanal);
    EXPECT_TRUE(options.vertebrae);
    EXPECT_TRUE(options.bowelGas);
    EXPECT_FALSE(options.bone);
    EXPECT_FALSE(options.lung);
    try {
        selectStructures(options, "body,spine");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("spinal_canal"), std::string::npos) << e.what();
    }
}

TEST(BodySurface, NormalOnCylinderPointsRadiallyOutward)
{
    const Volume ct = makeCt({1.0, 1.0, 1.0}, Mat3::identity(), {150, 120, 12});
    SegmentationOptions options;
    selectStructures(options, "body");
    const StructureSet set = segmentStructures(ct, options);
    const BodySurface surface(ct.geometry(), set.find("body")->voxels, 1.5);
    // On the ellipse x^2/a^2 + y^2/b^2 = 1 the outward normal is (x/a^2, y/b^2) normalised.
    for (const double angleDeg : {10.0, 100.0, 200.0, 300.0}) {
        const double t = angleDeg * kPi / 180.0;
        const Vec3 skinLps{60.0 * std::cos(t), 45.0 * std::sin(t), 0.0};
        const Vec3 expected = normalized(Vec3{skinLps.x / 3600.0, skinLps.y / 2025.0, 0.0});
        const Vec3 normal = surface.outwardNormalLps(skinLps);
        EXPECT_GT(dot(normal, expected), std::cos(6.0 * kPi / 180.0)) << angleDeg;
        EXPECT_NEAR(surface.insideFraction(skinLps), 0.5, 0.15) << angleDeg;
    }
    EXPECT_EQ(norm(surface.outwardNormalLps({0.0, -20.0, 0.0})), 0.0) << "flat deep inside";
}

TEST(BodySurface, RejectsMismatchedMask)
{
    Geometry g;
    g.size = {4, 4, 4};
    EXPECT_THROW(BodySurface(g, std::vector<std::uint8_t>(10, 0)), Error);
}

} // namespace
} // namespace np::imaging
