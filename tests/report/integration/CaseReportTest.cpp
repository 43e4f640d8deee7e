// The PDF case report: poppler's pdftotext finds the target names and numbers, pdftoppm renders
// every page; the warning about missing critical structures; the along-needle picture.

#include "needleplan/report/CaseReport.h"

#include "TestSupport.h"
#include "needleplan/imaging/DrrRenderer.h"
#include "needleplan/imaging/Volume.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

namespace np::report {
namespace {

bool havePoppler()
{
    return std::system("command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 && "
                       "command -v pdfinfo >/dev/null 2>&1") == 0;
}

planning::Plan handMadePlan()
{
    planning::Plan plan;
    plan.image.path = "/data/ct";
    plan.image.seriesUid = "1.2.3.4";
    plan.image.patientPosition = "HFP";
    plan.needle.name = "22G-90mm";
    plan.needle.gauge = 22;
    plan.needle.outerDiameterMm = 0.72;
    plan.needle.usableLengthMm = 90;
    plan.structures = {{"bone", 1, planning::StructureClass::Obstacle, 0.0},
                       {"kidney_left", 2, planning::StructureClass::Forbidden, 5.0}};
    for (int t = 0; t < 3; ++t) {
        planning::PlanTarget target;
        target.name = t == 0   ? "L4 medial branch left"
                      : t == 1 ? "L5 dorsal ramus right"
                               : "Sacral target " + std::to_string(t);
        target.targetLps = {12.26 + t, 40.5, 101.74};
        planning::PlannedTrajectory p;
        p.rank = 1;
        p.trajectory = {Vec3{55.5, 110.0, 120.0}, target.targetLps, plan.needle};
        p.evaluation.safe = true;
        p.evaluation.lengthMm = 83.4 + t;
        p.evaluation.depthFromSkinMm = 61.2 + t;
        p.evaluation.angles.bullseye.primaryDeg = -33.3;
        p.evaluation.angles.bullseye.secondaryDeg = 12.7;
        p.evaluation.angles.bullseye.obliqueDeg = 27.9;
        p.evaluation.angles.progression.primaryDeg = 56.7;
        planning::StructureClearance c;
        c.structure = "kidney_left";
        c.structureClass = planning::StructureClass::Forbidden;
        c.clearanceMm = 17.35;
        c.marginMm = 5;
        p.evaluation.clearances.push_back(c);
        target.trajectories.push_back(p);
        plan.targets.push_back(target);
    }
    return plan;
}

TEST(CaseReport, PdfHoldsTargetsAndNumbersAndEveryPageRenders)
{
    if (!havePoppler())
        GTEST_SKIP() << "pdftotext/pdftoppm/pdfinfo (Debian package poppler-utils) are not installed";
    CaseReportContent content;
    content.plan = handMadePlan();
    content.patient.patientName = "Doe^Jane";
    content.patient.patientId = "PID-0042";
    content.generatedAtUtc = "2026-01-02 03:04 UTC";
    ReportPicture picture{"a grey ramp", 64, 32, {}};
    for (int n = 0; n < 64 * 32; ++n)
        picture.rgb.insert(picture.rgb.end(), 3, static_cast<std::uint8_t>(n % 64 * 4));
    content.picturesByTarget = {{picture}, {picture}, {picture}};
    np::test::TempDir dir;
    const std::string pdf = (dir.path() / "report.pdf").string();
    writeCaseReportPdf(content, pdf);
    ASSERT_TRUE(std::filesystem::exists(pdf));

    const std::string text = test::singleSpaced(test::runCommand("pdftotext -layout '" + pdf + "' -"));
    for (const char* expected : {"L4 medial branch left",
                                 "L5 dorsal ramus right",
                                 "Sacral target 2",
                                 "Doe Jane",
                                 "PID-0042",
                                 "61.2",
                                 "62.2",
                                 "83.4",
                                 "-33.3",
                                 "12.7",
                                 "27.9",
                                 "56.7",
                                 "17.4",
                                 "(55.5, 110.0, 120.0)",
                                 "(12.3, 40.5, 101.7)",
                                 "22G-90mm",
                                 "kidney_left",
                                 "Planning aid",
                                 "2026-01-02 03:04 UTC",
                                 "nerve roots",
                                 "vessels",
                                 "spinal canal"})
        EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;

    const std::string info = test::runCommand("pdfinfo '" + pdf + "'");
    const auto at = info.find("Pages:");
    ASSERT_NE(at, std::string::npos) << info;
    const int pages = std::atoi(info.c_str() + at + 6);
    EXPECT_GE(pages, 1);
    test::runCommand("pdftoppm -r 30 -png '" + pdf + "' '" + (dir.path() / "page").string() + "'");
    int rendered = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
        rendered += entry.path().extension() == ".png" && std::filesystem::file_size(entry.path()) > 0;
    EXPECT_EQ(rendered, pages);
}

TEST(CaseReport, WarnsOnlyAboutCriticalStructuresThatAreMissing)
{
    planning::Plan plan = handMadePlan();
    EXPECT_EQ(missingCriticalStructures(plan),
              (std::vector<std::string>{"nerve roots", "vessels", "spinal canal"}));
    plan.structures.push_back({"nerve_root_L4_left", 3, planning::StructureClass::Forbidden, 2.0});
    plan.structures.push_back({"Aorta", 4, planning::StructureClass::Forbidden, 3.0});
    plan.structures.push_back({"spinal_canal", 5, planning::StructureClass::Forbidden, 3.0});
    EXPECT_TRUE(missingCriticalStructures(plan).empty());
}

TEST(CaseReport, AlongNeedlePictureShowsTheBrightBallAtTheTarget)
{
    // A 20 mm ball of 1000 HU in air (-1000 HU) on an anisotropic grid; a needle along +x ends in it.
    imaging::Geometry g;
    g.size = {80, 60, 40};
    g.spacing = {1.0, 1.25, 1.5};
    g.originLps = {-40, -37.5, -30};
    imaging::Volume ct(g, -1000.0f);
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i)
                if (norm(g.lpsFromIjk({double(i), double(j), double(k)})) <= 10.0)
                    ct.at(i, j, k) = 1000.0f;
    const planning::Trajectory needle{Vec3{-35, 0, 0}, Vec3{0, 0, 0}, {}};
    const ReportPicture picture = alongNeedlePicture(ct, needle, "test", 200);
    ASSERT_GT(picture.width, 0);
    ASSERT_EQ(picture.rgb.size(), std::size_t(picture.width) * std::size_t(picture.height) * 3);
    // The picture spans the needle plus 30 mm each side; the ball's centre is 5 mm beyond the
    // target... the target is the ball's centre, so 4 mm past it along the needle is bone-white.
    const double widthMm = 35.0 + 60.0, pixelMm = widthMm / picture.width;
    const int targetColumn = static_cast<int>((17.5 + 47.5 + 4.0) / pixelMm);
    const int middleRow = picture.height / 2 - 6;
    const std::uint8_t* inside =
        &picture.rgb[(std::size_t(middleRow) * std::size_t(picture.width) + std::size_t(targetColumn)) * 3];
    EXPECT_EQ(inside[0], 255);
    EXPECT_EQ(inside[1], 255);
    const std::uint8_t* air = &picture.rgb[(std::size_t(middleRow) * std::size_t(picture.width) + 2) * 3];
    EXPECT_EQ(air[0], 0);
}

/// Largest distance (pixels) from `column, row` of a pixel painted exactly in `colour`; -1 when none.
double farthestPixelOfColour(const ReportPicture& picture, double column, double row, std::uint8_t r,
                             std::uint8_t g, std::uint8_t b)
{
    double farthest = -1;
    for (int y = 0; y < picture.height; ++y)
        for (int x = 0; x < picture.width; ++x) {
            const std::uint8_t* p =
                &picture.rgb[(std::size_t(y) * std::size_t(picture.width) + std::size_t(x)) * 3];
            if (p[0] == r && p[1] == g && p[2] == b)
                farthest = std::max(farthest, std::hypot(x - column, y - row));
        }
    return farthest;
}

TEST(CaseReport, DrrPicturesPutTheTargetAtTheCentreAndTheEntryWhereTheGeometrySays)
{
    // A 20 mm water-dense ball (1000 HU) in air, anisotropic grid; a 35 mm needle along +x ends at
    // its centre. The C-arm isocentre is the target: it projects to the image centre (99.5, 99.5) of
    // 200 pixels of 1.5 mm. Bull's-eye: the entry projects onto the target. Progression: the needle
    // lies in the isocentre's plane across the beam, magnified by SID/SOD = 1000/750.
    imaging::Geometry g;
    g.size = {80, 60, 40};
    g.spacing = {1.0, 1.25, 1.5};
    g.originLps = {-40, -37.5, -30};
    imaging::Volume ct(g, -1000.0f);
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i)
                if (norm(g.lpsFromIjk({double(i), double(j), double(k)})) <= 10.0)
                    ct.at(i, j, k) = 1000.0f;
    const imaging::AttenuationVolume attenuation(ct);
    const planning::Trajectory needle{Vec3{-35, 0, 0}, Vec3{0, 0, 0}, {}};
    const double centre = 99.5, ringPixels = 7.0, linePixels = 1.0;
    for (const auto position : {planning::PatientPosition::HFS, planning::PatientPosition::HFP}) {
        const ReportPicture bullseye = drrPicture(attenuation, needle, position, DrrView::Bullseye, "b", 200);
        ASSERT_EQ(bullseye.width, 200);
        ASSERT_EQ(bullseye.height, 200);
        // Red target dot (radius 3) centred on the image centre.
        EXPECT_NEAR(farthestPixelOfColour(bullseye, centre, centre, 255, 40, 40), 3.0, 1.0);
        // Yellow: only the entry's ring around the target (the needle is a point).
        EXPECT_NEAR(farthestPixelOfColour(bullseye, centre, centre, 255, 220, 0), ringPixels, 1.5);
        // The ball (projected radius 10 * 4/3 / 1.5 = 8.9 pixels) is darker than the air around it.
        const auto grey = [&](const ReportPicture& p, int x, int y) {
            return p.rgb[(std::size_t(y) * std::size_t(p.width) + std::size_t(x)) * 3];
        };
        EXPECT_LT(grey(bullseye, 105, 100), grey(bullseye, 130, 100));

        const ReportPicture progression =
            drrPicture(attenuation, needle, position, DrrView::Progression, "p", 200);
        const double entryPixels = 35.0 * (1000.0 / 750.0) / 1.5; // 31.1
        EXPECT_NEAR(farthestPixelOfColour(progression, centre, centre, 255, 220, 0), entryPixels + ringPixels,
                    1.5 + linePixels);
        EXPECT_NEAR(farthestPixelOfColour(progression, centre, centre, 255, 40, 40), 3.0, 1.0);
    }
}

TEST(CaseReport, StructureSourcesComeFromThePlansDescription)
{
    planning::Plan plan;
    EXPECT_EQ(structureSource(plan, "bone"), "(not stated)");
    plan.image.structuresPath = "/data/seg.nrrd";
    EXPECT_EQ(structureSource(plan, "bone"), "/data/seg.nrrd");
    plan.image.structuresPath = "/data/roots.seg.dcm; automatic segmentation (body,bone,spinal_canal)";
    EXPECT_EQ(structureSource(plan, "bone"), "automatic segmentation");
    EXPECT_EQ(structureSource(plan, "Spinal_Canal"), "automatic segmentation");
    EXPECT_EQ(structureSource(plan, "nerve_root_L4_left"), "/data/roots.seg.dcm");
}

TEST(CaseReport, SurfaceViewShowsTheBallAsADiscAndHidesTheNeedleInsideIt)
{
    // A 20 mm bone ball (1000 HU) in air on an anisotropic grid; the needle runs from 35 mm left of
    // its centre to the centre. Seen orthographically from any side, the ball is a disc of radius
    // 20 mm: pi * (20 / pixel)^2 pixels, with pixel = (35 + 2 * 40) mm / 200 = 0.575 mm. The needle's
    // first 15 mm are in front of nothing (yellow); a point 10 mm from the centre lies
    // sqrt(20^2 - 10^2) = 17.3 mm behind the ball's surface (hidden: not yellow).
    imaging::Geometry g;
    g.size = {80, 64, 54};
    g.spacing = {1.0, 1.25, 1.5};
    g.originLps = {-40, -40, -40};
    imaging::Volume ct(g, -1000.0f);
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i)
                if (norm(g.lpsFromIjk({double(i), double(j), double(k)})) <= 20.0)
                    ct.at(i, j, k) = 1000.0f;
    const planning::Trajectory needle{Vec3{-35, 0, 0}, Vec3{0, 0, 0}, {}};
    for (const auto position : {planning::PatientPosition::HFS, planning::PatientPosition::HFP}) {
        const ReportPicture view = surfaceViewPicture(ct, needle, position, "3D", 200);
        ASSERT_EQ(view.width, 200);
        const double pixelMm = 115.0 / 200;
        auto colour = [&](int x, int y) {
            return &view.rgb[(std::size_t(y) * std::size_t(view.width) + std::size_t(x)) * 3];
        };
        auto is = [](const std::uint8_t* p, int r, int g2, int b) {
            return p[0] == r && p[1] == g2 && p[2] == b;
        };
        int ball = 0, yellow = 0;
        for (int y = 0; y < view.height; ++y)
            for (int x = 0; x < view.width; ++x) {
                const std::uint8_t* p = colour(x, y);
                if (is(p, 255, 220, 0))
                    ++yellow;
                else if (!is(p, 20, 28, 48) && !is(p, 200, 110, 0) && !is(p, 255, 40, 40))
                    ++ball;
            }
        const double disc = M_PI * std::pow(20.0 / pixelMm, 2);
        EXPECT_NEAR(ball, disc, 0.03 * disc);
        EXPECT_GT(yellow, 0);
        // Where the entry and the point 10 mm from the centre project: the image is centred on the
        // needle's midpoint (-17.5, 0, 0) and the needle lies in the picture plane's span; find the
        // two pixels by the colour along the line from the red target dot.
        int redX = 0, redY = 0, reds = 0;
        for (int y = 0; y < view.height; ++y)
            for (int x = 0; x < view.width; ++x)
                if (is(colour(x, y), 255, 40, 40)) {
                    redX += x;
                    redY += y;
                    ++reds;
                }
        ASSERT_GT(reds, 0);
        // The target projects to the middle of the ball; the ball's centre is 17.5 mm from the
        // picture's centre along the needle's projection.
        const double cx = double(redX) / reds, cy = double(redY) / reds;
        const double toCentreX = cx - 99.5, toCentreY = cy - 99.5;
        const double projected = std::hypot(toCentreX, toCentreY) * pixelMm; // 17.5 mm times cos(tilt)
        EXPECT_LE(projected, 17.5 + pixelMm);
        EXPECT_GT(projected, 17.5 * 0.5);
        // Along the needle from the target toward the entry (direction: away from the centre dot,
        // through the picture's centre): 10 mm from the target is inside the ball, hidden.
        const double ux = -toCentreX / std::hypot(toCentreX, toCentreY),
                     uy = -toCentreY / std::hypot(toCentreX, toCentreY);
        const double scale = projected / 17.5; // foreshortening of the needle in this view
        const int hx = static_cast<int>(std::lround(cx + ux * 10 * scale / pixelMm));
        const int hy = static_cast<int>(std::lround(cy + uy * 10 * scale / pixelMm));
        EXPECT_FALSE(is(colour(hx, hy), 255, 220, 0)) << hx << "," << hy;
        const int ex = static_cast<int>(std::lround(cx + ux * 33 * scale / pixelMm));
        const int ey = static_cast<int>(std::lround(cy + uy * 33 * scale / pixelMm));
        EXPECT_TRUE(is(colour(ex, ey), 255, 220, 0)) << ex << "," << ey;
    }
}

} // namespace
} // namespace np::report
