// While a paint or erase tool is active, the slice views draw the brush's outline (its radius in
// mm) around the mouse; it goes when the mouse leaves, with region growing and in navigation.
// A sphere's outline on another slice is its cross-section, √(r² − d²), worked out by hand.

#include "GuiTestSupport.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/SegmentToolsPanel.h"
#include "needleplan/gui/StructuresModel.h"

#include <QApplication>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QMouseEvent>
#include <QToolButton>
#include <cmath>
#include <gtest/gtest.h>

namespace np::gui {
namespace {

using render::SliceOrientation;

TEST(BrushPreview, OutlineOfTheBrushFollowsTheMouseWhilePaintingOrErasing)
{
    NP_REQUIRE_DISPLAY();
    auto window = test::openScriptedWindow(1300, 850);
    SliceViewWidget* axial = window->sliceView(SliceOrientation::Axial);
    ASSERT_TRUE(axial->isRenderingAvailable());
    imaging::Geometry g; // 40×36×20 voxels of 0.8×1.1×2.5 mm
    g.size = {40, 36, 20};
    g.spacing = {0.8, 1.1, 2.5};
    g.originLps = {-16.0, -20.0, -25.0};
    window->imageModel().setVolume(std::make_shared<imaging::Volume>(g, 40.0f), "/data/ct.nrrd");
    QApplication::processEvents();
    auto* panel = window->findChild<SegmentToolsPanel*>();
    ASSERT_NE(panel, nullptr);
    ASSERT_NE(panel->editor().addStructure("kidney_right", planning::StructureClass::Forbidden, 3.0), 0);
    window->viewStateModel().setCursorLps(g.lpsFromIjk({20, 18, 10}));
    QApplication::processEvents();
    const Vec3 pointLps = g.lpsFromIjk({14, 12, 10});
    const double dpr = axial->devicePixelRatioF();
    const Vec3 display = axial->scene().displayFromLps(pointLps);
    const QPointF pixel(display.x / dpr, display.y / dpr);
    auto hover = [&] {
        QMouseEvent move(QEvent::MouseMove, pixel, axial->mapToGlobal(pixel), Qt::NoButton, Qt::NoButton,
                         Qt::NoModifier);
        QApplication::sendEvent(axial, &move);
    };

    hover();
    EXPECT_FALSE(axial->scene().brushOutline()) << "no outline while navigating";
    panel->findChild<QToolButton*>("segmentPaint")->click();
    panel->findChild<QComboBox*>("segmentBrushShape")->setCurrentIndex(0); // disc
    panel->findChild<QDoubleSpinBox*>("segmentRadius")->setValue(4.2);
    EXPECT_TRUE(axial->hasMouseTracking());
    hover();
    auto outline = axial->scene().brushOutline();
    ASSERT_TRUE(outline);
    EXPECT_DOUBLE_EQ(outline->second, 4.2);
    // The mouse position rounds to a widget pixel: the centre is within a pixel of the voxel's.
    const double mmPerPixel = axial->scene().mmPerPixel() * dpr;
    EXPECT_LE(distance(outline->first, pointLps), 1.5 * mmPerPixel);

    // The erase tool has one too; a sphere of 6 mm seen one slice (2.5 mm) away is a circle of
    // √(36 − 6.25) mm; two slices away (5 mm) √(36 − 25); three (7.5 mm) none.
    panel->findChild<QToolButton*>("segmentErase")->click();
    panel->findChild<QComboBox*>("segmentBrushShape")->setCurrentIndex(1);
    panel->findChild<QDoubleSpinBox*>("segmentRadius")->setValue(6.0);
    hover();
    ASSERT_TRUE(axial->scene().brushOutline());
    EXPECT_DOUBLE_EQ(axial->scene().brushOutline()->second, 6.0);
    axial->scene().setBrushOutline(g.lpsFromIjk({14, 12, 11}), 6.0, true);
    ASSERT_TRUE(axial->scene().brushOutline());
    EXPECT_NEAR(axial->scene().brushOutline()->second, std::sqrt(36.0 - 6.25), 1e-9);
    axial->scene().setBrushOutline(g.lpsFromIjk({14, 12, 12}), 6.0, true);
    EXPECT_NEAR(axial->scene().brushOutline()->second, std::sqrt(36.0 - 25.0), 1e-9);
    axial->scene().setBrushOutline(g.lpsFromIjk({14, 12, 13}), 6.0, true);
    EXPECT_FALSE(axial->scene().brushOutline());
    // A disc on another slice is not drawn on this one.
    axial->scene().setBrushOutline(g.lpsFromIjk({14, 12, 11}), 6.0, false);
    EXPECT_FALSE(axial->scene().brushOutline());

    // Leaving the view hides it; growing has no brush; navigation hides it.
    hover();
    ASSERT_TRUE(axial->scene().brushOutline());
    QEvent leave(QEvent::Leave);
    QApplication::sendEvent(axial, &leave);
    EXPECT_FALSE(axial->scene().brushOutline());
    panel->findChild<QToolButton*>("segmentGrow")->click();
    hover();
    EXPECT_FALSE(axial->scene().brushOutline());
    panel->findChild<QToolButton*>("segmentPaint")->click();
    hover();
    ASSERT_TRUE(axial->scene().brushOutline());
    panel->findChild<QToolButton*>("segmentOff")->click();
    EXPECT_FALSE(axial->scene().brushOutline());
    EXPECT_FALSE(axial->hasMouseTracking());
    window->undoStack().setClean();
    window->close();
}

} // namespace
} // namespace np::gui
