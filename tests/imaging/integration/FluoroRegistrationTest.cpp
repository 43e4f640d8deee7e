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
