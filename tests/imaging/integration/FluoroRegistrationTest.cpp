// 2D/3D registration on simulated fluoroscopy of the lumbar phantom. The CT registered is the
// phantom on a 1.2 × 1.2 × 1.5 mm grid; the frames are made from the phantom on another grid
// (0.9 × 0.9 × 1.1 mm, other noise) at a known pose, with Poisson noise, blur, a gamma display
// curve, collimator shutters, burnt-in text and a steel needle. Truth is the pose the frame was
// made at; errors are measured against it (mean projection distance at the target region and the
// target's pixel), never against the registration's own output.

#include "needleplan/imaging/FluoroRegistration.h"

#include "needleplan/imaging/DrrRenderer.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"
#include "needleplan/phantom/LumbarPhantom.h"
#include "needleplan/phantom/SimulatedFluoroscopy.h"

#include <atomic>
#include <gtest/gtest.h>
#include <memory>

using np::Vec3;
using namespace np::imaging;

namespace {

struct Scene
{
    AttenuationVolume ct;
    AttenuationVolume source;
    Vec3 targetLps;
};

const Scene& scene()
{
    static std::unique_ptr<Scene> s;
    if (!s) {
        s = std::make_unique<Scene>();
        np::phantom::PhantomOptions ctOptions;
        ctOptions.spacing = {1.2, 1.2, 1.5};
        const auto ct = np::phantom::generateLumbarPhantom(ctOptions);
        s->ct = AttenuationVolume(ct.ct);
        for (const auto& t : ct.targets)
            if (t.name.find("L4 medial branch left") != std::string::npos)
                s->targetLps = t.positionLps;
        np::phantom::PhantomOptions sourceOptions;
        sourceOptions.spacing = {0.9, 0.9, 1.1};
        sourceOptions.seed = 7;
        s->source = AttenuationVolume(np::phantom::generateLumbarPhantom(sourceOptions).ct);
    }
    return *s;
}

CArmGeometry view(double primaryDeg, double secondaryDeg)
{
    CArmParameters p;
    p.primaryDeg = primaryDeg;
    p.secondaryDeg = secondaryDeg;
    p.isocenterLps = scene().targetLps;
    p.patientPosition = "HFP";
    return CArmGeometry(p);
}

std::vector<Vec3> targetRegion()
{
    std::vector<Vec3> points;
    for (int i = -1; i <= 1; ++i)
        for (int j = -1; j <= 1; ++j)
            for (int k = -1; k <= 1; ++k)
                points.push_back(scene().targetLps + Vec3{15.0 * i, 15.0 * j, 15.0 * k});
    return points;
}

np::phantom::FluoroSimulationOptions simulation(std::uint32_t seed)
{
    np::phantom::FluoroSimulationOptions o;
    o.seed = seed;
    o.needleLps = std::make_pair(scene().targetLps + Vec3{25.0, 60.0, 10.0}, scene().targetLps);
    return o;
}

class CancelAfter : public np::ProgressSink
{
public:
    explicit CancelAfter(int reports) : m_left(reports) {}
    void report(double, const std::string&) override { --m_left; }
    bool cancelRequested() const override { return m_left <= 0; }

private:
    std::atomic<int> m_left;
};

} // namespace

TEST(FluoroRegistration, RejectsEmptyAndMismatchedInput)
{
    const CArmGeometry ap = view(180.0, 0.0);
    FluoroFrame frame;
    EXPECT_THROW(registerFluoroscopy(scene().ct, frame, ap), np::Error);
    frame.columns = 256;
    frame.rows = 256;
    frame.pixels.assign(256 * 256, 1.0f);
    EXPECT_THROW(registerFluoroscopy(scene().ct, frame, ap), np::Error); // the view has 512 × 512
    EXPECT_THROW(registerFluoroscopy(AttenuationVolume(), frame, ap), np::Error);
    frame.columns = 512;
    frame.rows = 512;
    frame.pixels.assign(512 * 512, 1.0f);
    frame.pixels[7] = std::nanf("");
    EXPECT_THROW(registerFluoroscopy(scene().ct, frame, ap), np::Error);
}

TEST(FluoroRegistration, ViewMotionTurnsAboutTheCentreAlongTheViewAxes)
{
    // A rotation of 90° about the beam through the centre takes a point one column step from the
    // centre onto the row direction (or its opposite); a translation moves along the view's axes.
    const CArmGeometry ap = view(180.0, 0.0);
    const Vec3 c = scene().targetLps;
    const RigidTransform shift = viewMotion(ap, c, {}, {1.0, 2.0, 3.0});
    const Vec3 moved = shift.apply(c);
    const Vec3 expected =
        c + ap.columnDirectionLps() * 1.0 + ap.rowDirectionLps() * 2.0 + ap.detectorDirectionLps() * 3.0;
    EXPECT_NEAR(distance(moved, expected), 0.0, 1e-12);
    const RigidTransform turn = viewMotion(ap, c, {0.0, 0.0, 90.0}, {});
    const Vec3 turned = turn.apply(c + ap.columnDirectionLps() * 10.0) - c;
    EXPECT_NEAR(std::abs(dot(turned, ap.rowDirectionLps())), 10.0, 1e-9);
    EXPECT_NEAR(distance(turn.apply(c), c), 0.0, 1e-12);
}

TEST(FluoroRegistration, RegistersASimulatedFrameAndTheTargetOverlayLandsWithinOnePixel)
{
    // Truth: the patient 9 mm and 4.5° away from where the header's view assumes it.
    const CArmGeometry oblique = view(-160.0, 15.0);
    const RigidTransform truth =
        RigidTransform::fromAnglesDeg({2.0, -3.0, 2.5}, {5.0, -6.0, 4.0}, scene().targetLps);
    const FluoroFrame frame = np::phantom::simulateFluoroscopy(scene().source, oblique, truth, simulation(3));
    const FluoroRegistrationResult r = registerFluoroscopy(scene().ct, frame, oblique);
    EXPECT_TRUE(r.registered) << r.reason;
    const double mpd = meanProjectionDistanceMm(oblique, truth, r.viewFromCt, targetRegion());
    EXPECT_LE(mpd, 1.0);
    // Where the target was drawn when the frame was made, and where the registration projects it.
    const DetectorPixel drawn = oblique.project(truth.apply(scene().targetLps));
    const DetectorPixel overlaid = r.projection.project(scene().targetLps);
    EXPECT_LE(std::hypot(drawn.column - overlaid.column, drawn.row - overlaid.row), 1.0)
        << "drawn (" << drawn.column << ", " << drawn.row << "), overlaid (" << overlaid.column << ", "
        << overlaid.row << ")";
    // The projection matrix is the view's times the pose.
    const DetectorPixel viaPose = oblique.project(r.viewFromCt.apply(scene().targetLps));
    EXPECT_NEAR(viaPose.column, overlaid.column, 1e-6);
    EXPECT_NEAR(viaPose.row, overlaid.row, 1e-6);
    EXPECT_GT(r.similarity, r.similarityBefore);
    EXPECT_FALSE(r.warnings.empty()); // collimator, text and needle were masked
}

TEST(FluoroRegistration, AFlippedFrameIsNotRegistered)
{
    const CArmGeometry pa = view(180.0, 0.0);
    np::phantom::FluoroSimulationOptions o = simulation(4);
    o.flipVertically = true;
    const FluoroFrame frame = np::phantom::simulateFluoroscopy(scene().source, pa, RigidTransform{}, o);
    const FluoroRegistrationResult r = registerFluoroscopy(scene().ct, frame, pa);
    EXPECT_FALSE(r.registered) << r.reason;
    EXPECT_NE(r.reason.find("not registered"), std::string::npos);
}

TEST(FluoroRegistration, CancelStopsTheRegistration)
{
    const CArmGeometry pa = view(180.0, 0.0);
    const FluoroFrame frame =
        np::phantom::simulateFluoroscopy(scene().source, pa, RigidTransform{}, simulation(5));
    CancelAfter cancel(1);
    try {
        registerFluoroscopy(scene().ct, frame, pa, {}, {}, &cancel);
        FAIL() << "the registration did not stop";
    } catch (const np::Error& e) {
        EXPECT_EQ(e.code(), np::ErrorCode::Cancelled);
    }
}

namespace {

constexpr double kPi = 3.14159265358979323846;

/// A PA view of a prone patient centred on a made-up isocentre (no phantom needed: the landmark
/// tests are geometry only).
CArmGeometry handView()
{
    CArmParameters p;
    p.primaryDeg = 180.0;
    p.isocenterLps = {12.0, -30.0, 85.0};
    p.patientPosition = "HFP";
    return CArmGeometry(p);
}

/// The PA view's pixel pitch at a distance `depthMm` from the source along the beam: the detector
/// pitch (300 mm / 512) scaled by depth / SID (1000 mm).
double pitchAtDepthMm(double depthMm)
{
    return (300.0 / 512.0) * depthMm / 1000.0;
}

} // namespace

TEST(FluoroRegistration, OneLandmarkShiftsTheStartOntoItsRayAtItsDepth)
{
    const CArmGeometry pa = handView();
    const Vec3 u = pa.columnDirectionLps(), w = pa.rowDirectionLps(), v = pa.detectorDirectionLps();
    const Vec3 c =
        pa.parameters().isocenterLps; // the isocentre, 750 mm from the source, at pixel (255.5, 255.5)
    // A CT point in the isocentre plane 10 mm along the columns and 5 mm along the rows, clicked
    // 40 mm and −7 mm (at the isocentre) from the image centre: the start moves by (30, −12) mm.
    const double s = pitchAtDepthMm(750.0); // 0.439453125 mm
    const FluoroLandmark inPlane{{255.5 + 40.0 / s, 255.5 - 7.0 / s}, c + u * 10.0 + w * 5.0};
    const RigidTransform moved = landmarkStart(pa, {inPlane});
    EXPECT_NEAR(distance(moved.translationMm, u * 30.0 - w * 12.0), 0.0, 1e-6);
    EXPECT_NEAR(moved.rotationAngleDeg(), 0.0, 1e-9);
    // A point 150 mm nearer the source on the central ray, clicked 20 pixels to the right: at a
    // depth of 600 mm a pixel spans 0.3515625 mm, so the start moves 7.03125 mm along the columns.
    const FluoroLandmark near{{275.5, 255.5}, c - v * 150.0};
    const RigidTransform nearMoved = landmarkStart(pa, {near});
    EXPECT_NEAR(distance(nearMoved.translationMm, u * 7.03125), 0.0, 1e-6);
    // It composes with a given start: the CT point is taken where that start puts it.
    RigidTransform start;
    start.translationMm = w * 3.0;
    const FluoroLandmark onCentre{{255.5, 255.5}, c};
    EXPECT_NEAR(distance(landmarkStart(pa, {onCentre}, start).apply(c), c), 0.0, 1e-6);
}

TEST(FluoroRegistration, TwoLandmarksAlsoTurnTheStartAboutTheBeam)
{
    const CArmGeometry pa = handView();
    const Vec3 u = pa.columnDirectionLps(), w = pa.rowDirectionLps(), v = pa.detectorDirectionLps();
    const Vec3 c = pa.parameters().isocenterLps;
    // The patient turned 8° about the beam through the target and shifted (15, −10) mm in the
    // isocentre plane. Rodrigues for a vector d across the beam: d cos θ + (v × d) sin θ.
    const double theta = 8.0 * kPi / 180.0;
    auto truth = [&](const Vec3& p) {
        const Vec3 d = p - c;
        return c + d * std::cos(theta) + cross(v, d) * std::sin(theta) + u * 15.0 - w * 10.0;
    };
    const double s = pitchAtDepthMm(750.0);
    auto clicked = [&](const Vec3& p) { // points in the isocentre plane project affinely
        const Vec3 q = truth(p) - c;
        return DetectorPixel{255.5 + dot(q, u) / s, 255.5 + dot(q, w) / s};
    };
    const Vec3 a = c - u * 20.0 + w * 6.0, b = c + u * 25.0 - w * 4.0;
    const RigidTransform start = landmarkStart(pa, {{clicked(a), a}, {clicked(b), b}});
    for (const Vec3& p : {a, b, c, c + u * 30.0 + w * 30.0})
        EXPECT_NEAR(distance(start.apply(p), truth(p)), 0.0, 1e-6);
    EXPECT_NEAR(start.rotationAngleDeg(), 8.0, 1e-6);
}

TEST(FluoroRegistration, LandmarkStartRejectsBadLandmarks)
{
    const CArmGeometry pa = handView();
    const Vec3 c = pa.parameters().isocenterLps;
    const FluoroLandmark centre{{255.5, 255.5}, c};
    EXPECT_THROW(landmarkStart(pa, {}), np::Error);
    EXPECT_THROW(landmarkStart(pa, {centre, centre, centre}), np::Error);
    // Two landmarks 2 mm apart: no rotation can be read from them.
    EXPECT_THROW(landmarkStart(pa, {centre, {{255.5, 260.0}, c + pa.rowDirectionLps() * 2.0}}), np::Error);
    // A CT point behind the source.
    EXPECT_THROW(landmarkStart(pa, {{{255.5, 255.5}, pa.sourceLps() - pa.detectorDirectionLps() * 10.0}}),
                 np::Error);
    EXPECT_THROW(landmarkStart(pa, {{{std::nan(""), 255.5}, c}}), np::Error);
}

TEST(FluoroRegistration, AStartFortyMmOffRegistersWithALandmarkButNotWithout)
{
    // The patient 40 mm to the side (along the columns of the PA view) and turned 3° about the beam:
    // beyond the search. The target clicked where the frame shows it (hand computed: the target
    // stays in the isocentre plane, 40 mm from the centre along the columns).
    const CArmGeometry pa = view(180.0, 0.0);
    const Vec3 u = pa.columnDirectionLps();
    const RigidTransform truth = viewMotion(pa, scene().targetLps, {0.0, 0.0, 3.0}, {40.0, 0.0, 0.0});
    const FluoroFrame frame = np::phantom::simulateFluoroscopy(scene().source, pa, truth, simulation(8));
    ASSERT_NEAR(distance(truth.apply(scene().targetLps), scene().targetLps + u * 40.0), 0.0, 1e-9);

    const FluoroRegistrationResult without = registerFluoroscopy(scene().ct, frame, pa);
    EXPECT_FALSE(without.registered) << without.reason;

    const FluoroLandmark target{{255.5 + 40.0 / pitchAtDepthMm(750.0), 255.5}, scene().targetLps};
    const FluoroRegistrationResult with =
        registerFluoroscopy(scene().ct, frame, pa, {}, landmarkStart(pa, {target}));
    EXPECT_TRUE(with.registered) << with.reason;
    EXPECT_LE(meanProjectionDistanceMm(pa, truth, with.viewFromCt, targetRegion()), 1.0);
}

TEST(FluoroRegistration, ReregistersAfterASmallMovementOnTheFinerLevelsOnly)
{
    // A registered pose, then the patient moves 1.2 mm and 1°: the re-registration starts from
    // the previous pose, runs no search and no coarsest level, and lands within 1 mm.
    const CArmGeometry oblique = view(-160.0, 15.0);
    const RigidTransform before =
        RigidTransform::fromAnglesDeg({1.0, -2.0, 1.5}, {4.0, 3.0, -2.0}, scene().targetLps);
    const RigidTransform after =
        RigidTransform::fromAnglesDeg({0.6, 0.0, -0.8}, {0.8, -0.9, 0.0}, scene().targetLps).compose(before);
    const FluoroFrame frame = np::phantom::simulateFluoroscopy(scene().source, oblique, after, simulation(9));
    const FluoroRegistrationResult r = reregisterFluoroscopy(scene().ct, frame, oblique, before);
    EXPECT_TRUE(r.registered) << r.reason;
    EXPECT_LE(meanProjectionDistanceMm(oblique, after, r.viewFromCt, targetRegion()), 1.0);
    ASSERT_EQ(r.drrsPerLevel.size(), 3u);
    EXPECT_EQ(r.drrsPerLevel[0], 0);
}

TEST(FluoroRegistration, TheRegionCentredOnALandmarkHoldsItAndRegisters)
{
    // The same 40 mm displacement: the start refined by the clicked target, and the comparison
    // region centred on the click (40 mm from the image centre along the columns), where the
    // target's vertebra lies in the frame.
    const CArmGeometry pa = view(180.0, 0.0);
    const RigidTransform truth = viewMotion(pa, scene().targetLps, {0.0, 0.0, 3.0}, {40.0, 0.0, 0.0});
    const FluoroFrame frame = np::phantom::simulateFluoroscopy(scene().source, pa, truth, simulation(8));
    const FluoroLandmark target{{255.5 + 40.0 / pitchAtDepthMm(750.0), 255.5}, scene().targetLps};
    FluoroRegistrationOptions options;
    options.regionCentre = target.pixel;
    const FluoroRegistrationResult r =
        registerFluoroscopy(scene().ct, frame, pa, options, landmarkStart(pa, {target}));
    EXPECT_TRUE(r.registered) << r.reason;
    EXPECT_LE(meanProjectionDistanceMm(pa, truth, r.viewFromCt, targetRegion()), 1.0);
    // A centre outside the frame is bad input.
    options.regionCentre = DetectorPixel{-3.0, 100.0};
    EXPECT_THROW(registerFluoroscopy(scene().ct, frame, pa, options), np::Error);
}

TEST(FluoroRegistration, FreeDistancesRecoverThePoseAndTheMagnification)
{
    // The frame made by a C-arm with SID 1100 mm and SOD 800 mm (magnification 1.375); the header
    // gives no distances, so the registration starts from SID 1000 and SOD 700 (1.43) and registers
    // them as free parameters. The error is measured in the true view: the distance of each point
    // of the target region from the true view's ray through the pixel where the result projects it.
    CArmParameters p;
    p.primaryDeg = 180.0;
    p.isocenterLps = scene().targetLps;
    p.patientPosition = "HFP";
    p.sourceToDetectorMm = 1100.0;
    p.sourceToIsocenterMm = 800.0;
    const CArmGeometry trueView(p);
    p.sourceToDetectorMm = 1000.0;
    p.sourceToIsocenterMm = 700.0;
    const CArmGeometry startView(p);
    const RigidTransform truth =
        RigidTransform::fromAnglesDeg({1.5, -2.0, 2.0}, {4.0, -3.0, 2.0}, scene().targetLps);
    const FluoroFrame frame = np::phantom::simulateFluoroscopy(scene().source, trueView, truth, simulation(12));
    FluoroRegistrationOptions options;
    options.freeDistances = true;
    const FluoroRegistrationResult r = registerFluoroscopy(scene().ct, frame, startView, options);
    EXPECT_TRUE(r.registered) << r.reason;
    EXPECT_TRUE(r.distancesFree);
    EXPECT_NE(r.reason.find("distances registered"), std::string::npos) << r.reason;
    double sum = 0.0;
    for (const Vec3& point : targetRegion()) {
        const RayLps ray = trueView.ray(r.projection.project(point));
        const Vec3 t = truth.apply(point) - ray.originLps;
        sum += norm(t - ray.directionLps * dot(t, ray.directionLps));
    }
    EXPECT_LE(sum / static_cast<double>(targetRegion().size()), 2.0);
    // The magnification (SID / SOD) is what one view measures well; each distance is bounded.
    EXPECT_NEAR(r.sourceToDetectorMm / r.sourceToIsocenterMm, 1100.0 / 800.0, 0.04 * 1100.0 / 800.0)
        << "SID " << r.sourceToDetectorMm << " SOD " << r.sourceToIsocenterMm;
    EXPECT_GE(r.sourceToDetectorMm, 500.0);
    EXPECT_LE(r.sourceToDetectorMm, 1500.0);
    EXPECT_GE(r.sourceToIsocenterMm, 300.0);
    EXPECT_LE(r.sourceToIsocenterMm, r.sourceToDetectorMm - 50.0);
    // A start outside the bounds is bad input.
    p.sourceToDetectorMm = 1600.0;
    p.sourceToIsocenterMm = 800.0;
    EXPECT_THROW(registerFluoroscopy(scene().ct, frame, CArmGeometry(p), options), np::Error);
}
