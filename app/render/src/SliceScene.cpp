#include "needleplan/render/SliceScene.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include <vtkActor.h>
#include <vtkActor2D.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkCornerAnnotation.h>
#include <vtkCoordinate.h>
#include <vtkFloatArray.h>
#include <vtkImageActor.h>
#include <vtkImageData.h>
#include <vtkImageProperty.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkPolyDataMapper2D.h>
#include <vtkProperty.h>
#include <vtkProperty2D.h>
#include <vtkRenderer.h>
#include <vtkTextActor.h>
#include <vtkTextProperty.h>
#include <vtkUnsignedCharArray.h>

namespace np::render {

namespace {

constexpr float kOutsideHu = -3024.0f;
constexpr double kPi = 3.14159265358979323846;

/// Accumulates coloured line segments (RGBA per point) into a polydata.
class LineBuilder
{
public:
    LineBuilder()
    {
        m_colors->SetNumberOfComponents(4);
        m_colors->SetName("colors");
    }
    void segment(double u0, double v0, double u1, double v1, double z, const std::array<unsigned char, 4>& rgba0,
                 const std::array<unsigned char, 4>& rgba1)
    {
        const vtkIdType a = m_points->InsertNextPoint(u0, v0, z);
        const vtkIdType b = m_points->InsertNextPoint(u1, v1, z);
        m_colors->InsertNextTypedTuple(rgba0.data());
        m_colors->InsertNextTypedTuple(rgba1.data());
        const vtkIdType ids[2] = {a, b};
        m_lines->InsertNextCell(2, ids);
    }
    void segment(double u0, double v0, double u1, double v1, double z, const std::array<unsigned char, 4>& rgba)
    {
        segment(u0, v0, u1, v1, z, rgba, rgba);
    }
    void circle(double u, double v, double radius, double z, const std::array<unsigned char, 4>& rgba)
    {
        constexpr int kSides = 28;
        for (int s = 0; s < kSides; ++s) {
            const double a0 = 2.0 * kPi * s / kSides, a1 = 2.0 * kPi * (s + 1) / kSides;
            segment(u + radius * std::cos(a0), v + radius * std::sin(a0), u + radius * std::cos(a1),
                    v + radius * std::sin(a1), z, rgba);
        }
    }
    void fill(vtkPolyData* polyData)
    {
        polyData->SetPoints(m_points);
        polyData->SetLines(m_lines);
        polyData->GetPointData()->SetScalars(m_colors);
        polyData->Modified();
    }

private:
    vtkNew<vtkPoints> m_points;
    vtkNew<vtkCellArray> m_lines;
    vtkNew<vtkUnsignedCharArray> m_colors;
};

std::array<unsigned char, 4> toRgba(const Rgb& rgb, double alpha)
{
    auto channel = [](double c) { return static_cast<unsigned char>(std::clamp(c, 0.0, 1.0) * 255.0 + 0.5); };
    return {channel(rgb[0]), channel(rgb[1]), channel(rgb[2]), channel(alpha)};
}

/// Colour of the plane whose normal is `normalLps`: axial red, coronal green, sagittal yellow.
Rgb planeColor(const Vec3& normalLps)
{
    const double ax = std::abs(normalLps.x), ay = std::abs(normalLps.y), az = std::abs(normalLps.z);
    if (az >= ax && az >= ay)
        return {0.93, 0.33, 0.30};
    if (ay >= ax)
        return {0.40, 0.80, 0.40};
    return {0.95, 0.85, 0.30};
}

void styleText(vtkTextProperty* text, int fontSize)
{
    text->SetFontFamilyToArial();
    text->SetFontSize(fontSize);
    text->SetColor(0.86, 0.88, 0.90);
    text->ShadowOn();
    text->SetShadowOffset(1, -1);
}

vtkSmartPointer<vtkActor> makeOverlayActor(vtkPolyData* polyData, double lineWidth)
{
    vtkNew<vtkPolyDataMapper> mapper;
    mapper->SetInputData(polyData);
    mapper->SetColorModeToDirectScalars();
    mapper->ScalarVisibilityOn();
    auto actor = vtkSmartPointer<vtkActor>::New();
    actor->SetMapper(mapper);
    actor->GetProperty()->SetLineWidth(static_cast<float>(lineWidth));
    actor->GetProperty()->LightingOff();
    actor->PickableOff();
    return actor;
}

} // namespace

struct SliceScene::Impl
{
    SliceOrientation orientation;
    PlaneFrame frame;
    SliceGrid grid;
    std::shared_ptr<const imaging::Volume> volume;
    std::shared_ptr<const imaging::LabelMap> labels;
    std::unordered_map<std::uint16_t, std::array<unsigned char, 4>> labelColors;
    double labelOpacity = 0.45;
    Vec3 cursorLps;
    double window = 400.0;
    double level = 40.0;
    bool crosshairVisible = true;
    std::vector<TrajectoryGraphic> trajectories;
    std::vector<TargetGraphic> targets;
    int widthPx = 400;
    int heightPx = 400;
    std::string topLeft;
    std::string topRight;
    std::string viewName;
    std::string positionText;
    double slabMm = 0.0;
    std::vector<std::pair<Vec3, Vec3>> measurementLines;
    std::optional<Vec3> brushCentreLps;
    double brushRadiusMm = 0.0;
    bool brushSphere = false;
    /// The brush outline on this slice: its centre in plane coordinates (u, v, depth) and radius.
    std::optional<std::pair<Vec3, double>> brushOnSlice() const
    {
        if (!brushCentreLps || brushRadiusMm <= 0.0)
            return std::nullopt;
        const Vec3 c = frame.planeFromLps(*brushCentreLps) - Vec3{0, 0, frame.planeFromLps(cursorLps).z};
        if (!brushSphere)
            return std::abs(c.z) <= 0.5 * sliceStep() ? std::optional(std::pair(c, brushRadiusMm))
                                                      : std::nullopt;
        const double squared = brushRadiusMm * brushRadiusMm - c.z * c.z;
        if (squared <= 0.0)
            return std::nullopt;
        return std::pair(c, std::sqrt(squared));
    }

    vtkNew<vtkRenderer> renderer;
    vtkNew<vtkImageData> image;
    vtkNew<vtkImageActor> imageActor;
    vtkNew<vtkImageData> labelImage;
    vtkNew<vtkImageActor> labelActor;
    vtkNew<vtkPolyData> thinLines;
    vtkNew<vtkPolyData> thickLines;
    vtkSmartPointer<vtkActor> thinActor;
    vtkSmartPointer<vtkActor> thickActor;
    vtkNew<vtkCornerAnnotation> corners;
    std::array<vtkNew<vtkTextActor>, 4> letters; // left, right, top, bottom
    vtkNew<vtkPolyData> scaleBar;
    vtkNew<vtkActor2D> scaleBarActor;
    vtkNew<vtkTextActor> scaleText;

    double w() const { return frame.planeFromLps(cursorLps).z; }

    void rebuildImage()
    {
        if (!volume) {
            imageActor->VisibilityOff();
            labelActor->VisibilityOff();
            return;
        }
        const imaging::Geometry& g = volume->geometry();
        const double step = std::min({g.spacing.x, g.spacing.y, g.spacing.z});
        std::vector<float> pixels =
            slabMm > 0.0 ? resliceVolumeMip(*volume, frame, grid, w(), slabMm, step, kOutsideHu)
                         : resliceVolume(*volume, frame, grid, w(), kOutsideHu);
        auto* scalars = vtkFloatArray::SafeDownCast(image->GetPointData()->GetScalars());
        std::copy(pixels.begin(), pixels.end(), scalars->GetPointer(0));
        scalars->Modified();
        image->Modified();
        imageActor->VisibilityOn();
        rebuildLabels();
    }

    void rebuildLabels()
    {
        if (!labels || labelColors.empty() || !volume) {
            labelActor->VisibilityOff();
            return;
        }
        std::vector<std::uint16_t> values = resliceLabels(*labels, frame, grid, w());
        auto* rgba = vtkUnsignedCharArray::SafeDownCast(labelImage->GetPointData()->GetScalars());
        unsigned char* out = rgba->GetPointer(0);
        for (std::size_t p = 0; p < values.size(); ++p) {
            auto it = values[p] == 0 ? labelColors.end() : labelColors.find(values[p]);
            if (it == labelColors.end()) {
                out[4 * p] = out[4 * p + 1] = out[4 * p + 2] = out[4 * p + 3] = 0;
            } else {
                std::copy(it->second.begin(), it->second.end(), out + 4 * p);
            }
        }
        rgba->Modified();
        labelImage->Modified();
        labelActor->SetOpacity(labelOpacity);
        labelActor->VisibilityOn();
    }

    void allocateImages()
    {
        image->SetDimensions(grid.width, grid.height, 1);
        image->SetSpacing(grid.pixelMm, grid.pixelMm, 1.0);
        image->SetOrigin(grid.originU, grid.originV, 0.0);
        vtkNew<vtkFloatArray> scalars;
        scalars->SetNumberOfTuples(static_cast<vtkIdType>(grid.width) * grid.height);
        image->GetPointData()->SetScalars(scalars);
        labelImage->SetDimensions(grid.width, grid.height, 1);
        labelImage->SetSpacing(grid.pixelMm, grid.pixelMm, 1.0);
        labelImage->SetOrigin(grid.originU, grid.originV, 0.0);
        vtkNew<vtkUnsignedCharArray> rgba;
        rgba->SetNumberOfComponents(4);
        rgba->SetNumberOfTuples(static_cast<vtkIdType>(grid.width) * grid.height);
        labelImage->GetPointData()->SetScalars(rgba);
    }

    double mmPerPixel() const
    {
        return 2.0 * renderer->GetActiveCamera()->GetParallelScale() / std::max(1, heightPx);
    }

    void rebuildOverlays()
    {
        const double mpp = mmPerPixel();
        LineBuilder thin, thick;
        const Vec3 cursorUvw = frame.planeFromLps(cursorLps);
        if (crosshairVisible && volume) {
            const double u0 = grid.originU - 0.5 * grid.pixelMm, u1 = u0 + grid.width * grid.pixelMm;
            const double v0 = grid.originV - 0.5 * grid.pixelMm, v1 = v0 + grid.height * grid.pixelMm;
            const double gap = 10.0 * mpp;
            const auto horizontal = toRgba(planeColor(frame.axes.upLps), 0.75);
            const auto vertical = toRgba(planeColor(frame.axes.rightLps), 0.75);
            if (cursorUvw.x - gap > u0)
                thin.segment(u0, cursorUvw.y, cursorUvw.x - gap, cursorUvw.y, 1.0, horizontal);
            if (cursorUvw.x + gap < u1)
                thin.segment(cursorUvw.x + gap, cursorUvw.y, u1, cursorUvw.y, 1.0, horizontal);
            if (cursorUvw.y - gap > v0)
                thin.segment(cursorUvw.x, v0, cursorUvw.x, cursorUvw.y - gap, 1.0, vertical);
            if (cursorUvw.y + gap < v1)
                thin.segment(cursorUvw.x, cursorUvw.y + gap, cursorUvw.x, v1, 1.0, vertical);
        }
        const double nearMm = std::max(1.0, 0.6 * sliceStep());
        for (const TrajectoryGraphic& trajectory : trajectories) {
            LineBuilder& builder = trajectory.selected ? thick : thin;
            const Vec3 a = frame.planeFromLps(trajectory.entryLps) - Vec3{0, 0, cursorUvw.z};
            const Vec3 b = frame.planeFromLps(trajectory.targetLps) - Vec3{0, 0, cursorUvw.z};
            // Depth cue: the part of the shaft within a slice of the plane is opaque, the rest faint.
            constexpr int kPieces = 64;
            for (int s = 0; s < kPieces; ++s) {
                const Vec3 p0 = a + (b - a) * (static_cast<double>(s) / kPieces);
                const Vec3 p1 = a + (b - a) * (static_cast<double>(s + 1) / kPieces);
                const double depth = std::abs(0.5 * (p0.z + p1.z));
                const double alpha = depth <= nearMm ? 1.0 : std::max(0.3, 0.85 - depth / 60.0);
                const auto& along = trajectory.colorsAlongRgb;
                const Rgb color = along.size() >= 2
                                      ? along[std::min(along.size() - 1, static_cast<std::size_t>((s + 0.5) / kPieces * along.size()))]
                                      : trajectory.colorRgb;
                builder.segment(p0.x, p0.y, p1.x, p1.y, 2.0, toRgba(color, alpha));
            }
            // Where the shaft pierces the plane.
            if ((a.z <= 0.0 && b.z >= 0.0) || (a.z >= 0.0 && b.z <= 0.0)) {
                if (std::abs(b.z - a.z) > 1e-9) {
                    const double t = a.z / (a.z - b.z);
                    const Vec3 hit = a + (b - a) * t;
                    thin.circle(hit.x, hit.y, 3.0 * mpp, 2.5, toRgba({1, 1, 1}, 1.0));
                }
            }
            if (trajectory.showHandles) {
                const auto handleColor = [&](double depth) { return toRgba({0.35, 0.75, 1.0}, std::abs(depth) <= nearMm ? 1.0 : 0.45); };
                thick.circle(a.x, a.y, 7.0 * mpp, 3.0, handleColor(a.z));
                thick.circle(b.x, b.y, 7.0 * mpp, 3.0, handleColor(b.z));
                thick.segment(b.x - 4 * mpp, b.y, b.x + 4 * mpp, b.y, 3.0, handleColor(b.z));
                thick.segment(b.x, b.y - 4 * mpp, b.x, b.y + 4 * mpp, 3.0, handleColor(b.z));
            }
        }
        for (const TargetGraphic& target : targets) {
            const Vec3 t = frame.planeFromLps(target.positionLps) - Vec3{0, 0, cursorUvw.z};
            const double alpha = std::abs(t.z) <= nearMm ? 1.0 : 0.4;
            const Rgb color = target.active ? Rgb{1.0, 0.55, 0.1} : Rgb{0.9, 0.8, 0.3};
            thin.circle(t.x, t.y, 5.0 * mpp, 3.0, toRgba(color, alpha));
            thin.segment(t.x - 8 * mpp, t.y, t.x - 3 * mpp, t.y, 3.0, toRgba(color, alpha));
            thin.segment(t.x + 3 * mpp, t.y, t.x + 8 * mpp, t.y, 3.0, toRgba(color, alpha));
            thin.segment(t.x, t.y - 8 * mpp, t.x, t.y - 3 * mpp, 3.0, toRgba(color, alpha));
            thin.segment(t.x, t.y + 3 * mpp, t.x, t.y + 8 * mpp, 3.0, toRgba(color, alpha));
        }
        for (const auto& [startLps, endLps] : measurementLines) {
            const Vec3 a = frame.planeFromLps(startLps) - Vec3{0, 0, cursorUvw.z};
            const Vec3 b = frame.planeFromLps(endLps) - Vec3{0, 0, cursorUvw.z};
            const bool near = std::abs(a.z) <= nearMm && std::abs(b.z) <= nearMm;
            thin.segment(a.x, a.y, b.x, b.y, 2.0, toRgba({0.3, 0.95, 0.95}, near ? 1.0 : 0.25));
        }
        if (const auto brush = brushOnSlice())
            thin.circle(brush->first.x, brush->first.y, brush->second, 1.5, toRgba({1.0, 0.85, 0.2}, 0.9));
        thin.fill(thinLines);
        thick.fill(thickLines);
        rebuildScaleBar();
        rebuildText();
    }

    void rebuildScaleBar()
    {
        const double mpp = mmPerPixel();
        const double lengthMm = niceScaleLengthMm(0.25 * widthPx * mpp);
        const double lengthPx = lengthMm / mpp;
        const double x1 = widthPx - 24.0, x0 = x1 - lengthPx, y = 48.0; // above the two-line corner text
        vtkNew<vtkPoints> points;
        vtkNew<vtkCellArray> lines;
        auto add = [&](double xa, double ya, double xb, double yb) {
            const vtkIdType ids[2] = {points->InsertNextPoint(xa, ya, 0), points->InsertNextPoint(xb, yb, 0)};
            lines->InsertNextCell(2, ids);
        };
        add(x0, y, x1, y);
        add(x0, y - 4, x0, y + 4);
        add(x1, y - 4, x1, y + 4);
        scaleBar->SetPoints(points);
        scaleBar->SetLines(lines);
        scaleBar->Modified();
        char label[32];
        std::snprintf(label, sizeof label, lengthMm >= 10 ? "%.0f mm" : "%.1f mm", lengthMm);
        scaleText->SetInput(label);
        scaleText->SetPosition(0.5 * (x0 + x1), y + 6);
        const bool visible = volume && lengthMm > 0;
        scaleBarActor->SetVisibility(visible);
        scaleText->SetVisibility(visible);
    }

    double sliceStep() const { return volume ? render::sliceStepMm(volume->geometry(), frame.axes.towardViewerLps) : 1.0; }

    std::array<int, 2> sliceIndexAndCount() const
    {
        if (!volume)
            return {0, 0};
        const double step = sliceStep();
        const int count = std::max(1, static_cast<int>(std::floor((grid.maxW - grid.minW) / step + 1e-6)));
        int index = static_cast<int>(std::floor((w() - grid.minW) / step));
        const Vec3& n = frame.axes.towardViewerLps;
        const double dominant = std::abs(n.x) >= std::abs(n.y) && std::abs(n.x) >= std::abs(n.z) ? n.x
                                : (std::abs(n.y) >= std::abs(n.z) ? n.y : n.z);
        if (dominant < 0)
            index = count - 1 - index;
        return {std::clamp(index, 0, count - 1), count};
    }

    /// Fits the lines of a left and a right corner text into the view's width: the right text (short
    /// readouts) keeps up to half the width, the left one gets the rest; longer lines end in "...".
    void fitCornerPair(std::string& left, std::string& right) const
    {
        // A generous average advance of the corner font's glyphs (measured: about 0.45 em).
        const double kCharPx = 0.55 * cornerFontPx() + 0.3;
        constexpr double kMarginPx = 10.0, kGapPx = 24.0;
        const auto total = static_cast<std::size_t>(std::max(0.0, (widthPx - 2.0 * kMarginPx - kGapPx) / kCharPx));
        auto lines = [](const std::string& text) {
            std::vector<std::string> out;
            std::size_t start = 0;
            while (true) {
                const std::size_t end = text.find('\n', start);
                out.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
                if (end == std::string::npos)
                    return out;
                start = end + 1;
            }
        };
        auto cut = [](const std::string& line, std::size_t room) {
            if (line.size() <= room)
                return line;
            return room <= 3 ? line.substr(0, room) : line.substr(0, room - 3) + "...";
        };
        std::vector<std::string> l = lines(left), r = lines(right);
        for (std::size_t n = 0; n < std::max(l.size(), r.size()); ++n) {
            std::string* a = n < l.size() ? &l[n] : nullptr;
            std::string* b = n < r.size() ? &r[n] : nullptr;
            const std::size_t rightRoom = b ? std::min(b->size(), std::max<std::size_t>(total / 2, total - (a ? a->size() : 0))) : 0;
            if (b)
                *b = cut(*b, rightRoom);
            if (a)
                *a = cut(*a, total > (b ? b->size() : 0) ? total - (b ? b->size() : 0) : 0);
        }
        auto join = [](const std::vector<std::string>& parts) {
            std::string out;
            for (std::size_t n = 0; n < parts.size(); ++n)
                out += (n ? "\n" : "") + parts[n];
            return out;
        };
        left = join(l);
        right = join(r);
    }

    /// Corner text size: smaller in narrow views so that more of each line stays readable.
    int cornerFontPx() const { return widthPx < 300 ? 12 : 13; }

    void rebuildText()
    {
        corners->SetMinimumFontSize(cornerFontPx());
        corners->SetMaximumFontSize(cornerFontPx());
        std::string fittedTopLeft = topLeft, fittedTopRight = topRight;
        fitCornerPair(fittedTopLeft, fittedTopRight);
        corners->SetText(2, fittedTopLeft.c_str());
        corners->SetText(3, fittedTopRight.c_str());
        char bottomLeft[128] = "";
        char bottomRight[128] = "";
        if (volume) {
            const auto [index, count] = sliceIndexAndCount();
            // Position along the patient axis of the normal, named by its letter (e.g. S 12.0 mm).
            const Vec3& n = frame.axes.towardViewerLps;
            int axis = 0;
            for (int a = 1; a < 3; ++a)
                if (std::abs(n[a]) > std::abs(n[axis]))
                    axis = a;
            const double coordinate = cursorLps[axis];
            static const char* positive[3] = {"L", "P", "S"};
            static const char* negative[3] = {"R", "A", "I"};
            std::string name = viewName.empty() ? toString(orientation) : viewName;
            if (slabMm > 0.0) {
                char slab[48];
                std::snprintf(slab, sizeof slab, " MIP %.0f mm", slabMm);
                name += slab;
            }
            if (!positionText.empty())
                std::snprintf(bottomLeft, sizeof bottomLeft, "%s\n%s", name.c_str(), positionText.c_str());
            else
                std::snprintf(bottomLeft, sizeof bottomLeft, "%s %d/%d\n%s %.1f mm", name.c_str(), index + 1, count,
                              coordinate >= 0 ? positive[axis] : negative[axis], std::abs(coordinate));
            std::snprintf(bottomRight, sizeof bottomRight, "W %.0f L %.0f\n%.2f mm/px", window, level,
                          mmPerPixel());
        }
        std::string fittedBottomLeft = bottomLeft, fittedBottomRight = bottomRight;
        fitCornerPair(fittedBottomLeft, fittedBottomRight);
        corners->SetText(0, fittedBottomLeft.c_str());
        corners->SetText(1, fittedBottomRight.c_str());
        // The top and bottom letters sit below / above the two-line corner texts.
        const double topY = std::max(0.5, 1.0 - 46.0 / heightPx), bottomY = std::min(0.5, 46.0 / heightPx);
        letters[2]->SetPosition(0.5, topY);
        letters[3]->SetPosition(0.5, bottomY);
        const Vec3 edges[4] = {-frame.axes.rightLps, frame.axes.rightLps, frame.axes.upLps, -frame.axes.upLps};
        for (int e = 0; e < 4; ++e) {
            letters[static_cast<std::size_t>(e)]->SetInput(directionLetters(edges[e]).c_str());
            letters[static_cast<std::size_t>(e)]->SetVisibility(volume != nullptr);
        }
    }
};

SliceScene::SliceScene(SliceOrientation orientation) : m_impl(std::make_unique<Impl>())
{
    Impl& d = *m_impl;
    d.orientation = orientation;
    d.frame.axes = standardAxes(orientation);
    d.renderer->SetBackground(0.0, 0.0, 0.0);
    d.renderer->GetActiveCamera()->ParallelProjectionOn();

    d.imageActor->SetInputData(d.image);
    d.imageActor->GetProperty()->SetInterpolationTypeToLinear();
    d.imageActor->GetProperty()->SetColorWindow(d.window);
    d.imageActor->GetProperty()->SetColorLevel(d.level);
    d.imageActor->VisibilityOff();
    d.imageActor->PickableOff();
    d.renderer->AddViewProp(d.imageActor);

    d.labelActor->SetInputData(d.labelImage);
    d.labelActor->GetProperty()->SetInterpolationTypeToNearest();
    d.labelActor->SetPosition(0, 0, 0.5);
    d.labelActor->VisibilityOff();
    d.labelActor->PickableOff();
    d.renderer->AddViewProp(d.labelActor);

    d.thinActor = makeOverlayActor(d.thinLines, 1.5);
    d.thickActor = makeOverlayActor(d.thickLines, 3.0);
    d.renderer->AddActor(d.thinActor);
    d.renderer->AddActor(d.thickActor);

    styleText(d.corners->GetTextProperty(), 13);
    d.corners->SetMaximumFontSize(14);
    d.corners->SetMinimumFontSize(11);
    d.corners->SetLinearFontScaleFactor(2);
    d.corners->SetNonlinearFontScaleFactor(1);
    d.renderer->AddViewProp(d.corners);

    const double positions[4][2] = {{0.025, 0.5}, {0.975, 0.5}, {0.5, 0.965}, {0.5, 0.035}};
    for (std::size_t e = 0; e < 4; ++e) {
        vtkTextActor* letter = d.letters[e];
        styleText(letter->GetTextProperty(), 16);
        letter->GetTextProperty()->BoldOn();
        letter->GetTextProperty()->SetColor(0.95, 0.8, 0.35);
        letter->GetTextProperty()->SetJustificationToCentered();
        letter->GetTextProperty()->SetVerticalJustificationToCentered();
        letter->GetPositionCoordinate()->SetCoordinateSystemToNormalizedViewport();
        letter->SetPosition(positions[e][0], positions[e][1]);
        letter->VisibilityOff();
        d.renderer->AddViewProp(letter);
    }

    vtkNew<vtkPolyDataMapper2D> barMapper;
    barMapper->SetInputData(d.scaleBar);
    d.scaleBarActor->SetMapper(barMapper);
    d.scaleBarActor->GetProperty()->SetColor(0.86, 0.88, 0.90);
    d.scaleBarActor->GetProperty()->SetLineWidth(2);
    d.scaleBarActor->VisibilityOff();
    d.renderer->AddViewProp(d.scaleBarActor);
    styleText(d.scaleText->GetTextProperty(), 12);
    d.scaleText->GetTextProperty()->SetJustificationToCentered();
    d.scaleText->VisibilityOff();
    d.renderer->AddViewProp(d.scaleText);
    d.rebuildOverlays();
}

SliceScene::~SliceScene() = default;

vtkRenderer* SliceScene::renderer() const { return m_impl->renderer; }
SliceOrientation SliceScene::orientation() const { return m_impl->orientation; }
const PlaneFrame& SliceScene::frame() const { return m_impl->frame; }

void SliceScene::setAxes(const SliceAxes& axes)
{
    Impl& d = *m_impl;
    d.frame.axes = axes;
    if (d.volume) {
        d.grid = sliceGridFor(d.volume->geometry(), d.frame);
        d.allocateImages();
        d.rebuildImage();
    }
    d.rebuildOverlays();
}

void SliceScene::setViewName(const std::string& name)
{
    m_impl->viewName = name;
    m_impl->rebuildText();
}

void SliceScene::setPositionText(const std::string& text)
{
    m_impl->positionText = text;
    m_impl->rebuildText();
}

void SliceScene::setVolume(std::shared_ptr<const imaging::Volume> volume)
{
    Impl& d = *m_impl;
    d.volume = std::move(volume);
    d.labels.reset();
    d.labelColors.clear();
    if (d.volume) {
        const imaging::Geometry& geometry = d.volume->geometry();
        d.frame.centreLps = geometry.lpsFromIjk(
            {0.5 * (geometry.size[0] - 1), 0.5 * (geometry.size[1] - 1), 0.5 * (geometry.size[2] - 1)});
        d.cursorLps = d.frame.centreLps;
        d.grid = sliceGridFor(geometry, d.frame);
        d.allocateImages();
    }
    d.rebuildImage();
    resetCamera();
}

void SliceScene::setLabels(std::shared_ptr<const imaging::LabelMap> labels, const std::vector<StructureStyle>& styles)
{
    Impl& d = *m_impl;
    d.labels = std::move(labels);
    d.labelColors.clear();
    for (const StructureStyle& style : styles)
        if (style.visible)
            d.labelColors[style.labelValue] = toRgba(style.colorRgb, 1.0);
    d.rebuildLabels();
}

void SliceScene::setLabelOpacity(double opacity)
{
    m_impl->labelOpacity = std::clamp(opacity, 0.0, 1.0);
    m_impl->labelActor->SetOpacity(m_impl->labelOpacity);
}

void SliceScene::setCursorLps(const Vec3& cursorLps)
{
    Impl& d = *m_impl;
    const double oldW = d.w();
    d.cursorLps = cursorLps;
    if (std::abs(d.w() - oldW) > 1e-9)
        d.rebuildImage();
    d.rebuildOverlays();
}

Vec3 SliceScene::cursorLps() const { return m_impl->cursorLps; }
double SliceScene::sliceStepMm() const { return m_impl->sliceStep(); }
std::array<int, 2> SliceScene::sliceIndexAndCount() const { return m_impl->sliceIndexAndCount(); }

void SliceScene::setSlabThicknessMm(double thicknessMm)
{
    Impl& d = *m_impl;
    const double slab = std::isfinite(thicknessMm) ? std::max(0.0, thicknessMm) : 0.0;
    if (slab == d.slabMm)
        return;
    d.slabMm = slab;
    d.rebuildImage();
    d.rebuildText();
}

double SliceScene::slabThicknessMm() const
{
    return m_impl->slabMm;
}

void SliceScene::setWindowLevel(double window, double level)
{
    Impl& d = *m_impl;
    d.window = std::max(1.0, window);
    d.level = level;
    d.imageActor->GetProperty()->SetColorWindow(d.window);
    d.imageActor->GetProperty()->SetColorLevel(d.level);
    d.rebuildText();
}

double SliceScene::window() const { return m_impl->window; }
double SliceScene::level() const { return m_impl->level; }

void SliceScene::setCornerText(const std::string& topLeft, const std::string& topRight)
{
    m_impl->topLeft = topLeft;
    m_impl->topRight = topRight;
    m_impl->rebuildText();
}

void SliceScene::setCrosshairVisible(bool visible)
{
    m_impl->crosshairVisible = visible;
    m_impl->rebuildOverlays();
}

void SliceScene::setTrajectories(std::vector<TrajectoryGraphic> trajectories)
{
    m_impl->trajectories = std::move(trajectories);
    m_impl->rebuildOverlays();
}

void SliceScene::setMeasurementLines(std::vector<std::pair<Vec3, Vec3>> segmentsLps)
{
    m_impl->measurementLines = std::move(segmentsLps);
    m_impl->rebuildOverlays();
}

void SliceScene::setBrushOutline(std::optional<Vec3> centreLps, double radiusMm, bool sphere)
{
    m_impl->brushCentreLps = centreLps;
    m_impl->brushRadiusMm = radiusMm;
    m_impl->brushSphere = sphere;
    m_impl->rebuildOverlays();
}

std::optional<std::pair<Vec3, double>> SliceScene::brushOutline() const
{
    const auto onSlice = m_impl->brushOnSlice();
    if (!onSlice)
        return std::nullopt;
    const Vec3 cursorPlane = m_impl->frame.planeFromLps(m_impl->cursorLps);
    const Vec3 centrePlane{onSlice->first.x, onSlice->first.y, cursorPlane.z};
    return std::pair(m_impl->frame.lpsFromPlane(centrePlane.x, centrePlane.y, centrePlane.z),
                     onSlice->second);
}

void SliceScene::setTargets(std::vector<TargetGraphic> targets)
{
    m_impl->targets = std::move(targets);
    m_impl->rebuildOverlays();
}

void SliceScene::setViewportSize(int widthPx, int heightPx)
{
    m_impl->widthPx = std::max(1, widthPx);
    m_impl->heightPx = std::max(1, heightPx);
    m_impl->rebuildOverlays();
}

void SliceScene::resetCamera()
{
    Impl& d = *m_impl;
    vtkCamera* camera = d.renderer->GetActiveCamera();
    double centreU = 0, centreV = 0, halfHeight = 100, halfWidth = 100;
    if (d.volume) {
        centreU = d.grid.originU + 0.5 * (d.grid.width - 1) * d.grid.pixelMm;
        centreV = d.grid.originV + 0.5 * (d.grid.height - 1) * d.grid.pixelMm;
        halfWidth = 0.5 * d.grid.width * d.grid.pixelMm;
        halfHeight = 0.5 * d.grid.height * d.grid.pixelMm;
    }
    const double aspect = static_cast<double>(d.widthPx) / d.heightPx;
    camera->SetFocalPoint(centreU, centreV, 0.0);
    camera->SetPosition(centreU, centreV, 1000.0);
    camera->SetViewUp(0, 1, 0);
    camera->SetParallelScale(1.04 * std::max(halfHeight, halfWidth / aspect));
    camera->SetClippingRange(900.0, 1100.0);
    d.rebuildOverlays();
}

void SliceScene::zoomAt(double factor, double xPx, double yPx)
{
    Impl& d = *m_impl;
    if (!(factor > 0.0))
        return;
    vtkCamera* camera = d.renderer->GetActiveCamera();
    double focal[3];
    camera->GetFocalPoint(focal);
    const double mpp = d.mmPerPixel();
    const double pointU = focal[0] + (xPx - 0.5 * d.widthPx) * mpp;
    const double pointV = focal[1] + (0.5 * d.heightPx - yPx) * mpp;
    const double scale = std::clamp(camera->GetParallelScale() / factor, 2.0, 5000.0);
    camera->SetParallelScale(scale);
    const double newMpp = d.mmPerPixel();
    const double newU = pointU - (xPx - 0.5 * d.widthPx) * newMpp;
    const double newV = pointV - (0.5 * d.heightPx - yPx) * newMpp;
    camera->SetFocalPoint(newU, newV, 0.0);
    camera->SetPosition(newU, newV, 1000.0);
    d.rebuildOverlays();
}

void SliceScene::centreOn(const Vec3& pointLps, double viewHeightMm)
{
    Impl& d = *m_impl;
    vtkCamera* camera = d.renderer->GetActiveCamera();
    const Vec3 uvw = d.frame.planeFromLps(pointLps);
    camera->SetFocalPoint(uvw.x, uvw.y, 0.0);
    camera->SetPosition(uvw.x, uvw.y, 1000.0);
    if (viewHeightMm > 0.0)
        camera->SetParallelScale(0.5 * viewHeightMm);
    d.rebuildOverlays();
}

void SliceScene::panBy(double dxPx, double dyPx)
{
    Impl& d = *m_impl;
    vtkCamera* camera = d.renderer->GetActiveCamera();
    double focal[3];
    camera->GetFocalPoint(focal);
    const double mpp = d.mmPerPixel();
    const double u = focal[0] - dxPx * mpp, v = focal[1] + dyPx * mpp;
    camera->SetFocalPoint(u, v, 0.0);
    camera->SetPosition(u, v, 1000.0);
    d.rebuildOverlays();
}

double SliceScene::mmPerPixel() const { return m_impl->mmPerPixel(); }

Vec3 SliceScene::lpsFromDisplay(double xPx, double yPx) const
{
    const Impl& d = *m_impl;
    double focal[3];
    d.renderer->GetActiveCamera()->GetFocalPoint(focal);
    const double mpp = d.mmPerPixel();
    const double u = focal[0] + (xPx - 0.5 * d.widthPx) * mpp;
    const double v = focal[1] + (0.5 * d.heightPx - yPx) * mpp;
    return d.frame.lpsFromPlane(u, v, d.w());
}

Vec3 SliceScene::displayFromLps(const Vec3& pointLps) const
{
    const Impl& d = *m_impl;
    double focal[3];
    d.renderer->GetActiveCamera()->GetFocalPoint(focal);
    const double mpp = d.mmPerPixel();
    const Vec3 uvw = d.frame.planeFromLps(pointLps);
    return {0.5 * d.widthPx + (uvw.x - focal[0]) / mpp, 0.5 * d.heightPx - (uvw.y - focal[1]) / mpp, uvw.z - d.w()};
}

} // namespace np::render
