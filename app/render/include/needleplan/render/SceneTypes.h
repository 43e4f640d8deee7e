#pragma once
/// Plain descriptions of what the scenes draw, free of VTK and of any GUI toolkit.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "needleplan/imaging/Vec3.h"

namespace np::render {

/// RGB colour, each channel in [0, 1].
using Rgb = std::array<double, 3>;

/// How one labelled structure is shown.
struct StructureStyle
{
    std::uint16_t labelValue = 0;
    std::string name;
    Rgb colorRgb{1, 1, 1};
    double opacity = 1.0; ///< 3D surface opacity in [0, 1]
    bool visible = true;
};

/// One needle path to draw.
struct TrajectoryGraphic
{
    Vec3 entryLps;
    Vec3 targetLps;
    double radiusMm = 0.36;  ///< shaft radius (half the outer diameter)
    Rgb colorRgb{0.2, 0.9, 0.3};
    bool selected = false;
    bool showHandles = false; ///< draw the entry and target handles (the editable trajectory)
    /// Optional colours at evenly spaced points from entry to target (clearance along the shaft);
    /// when empty the whole shaft has colorRgb.
    std::vector<Rgb> colorsAlongRgb;
};

/// A marked target without a trajectory yet.
struct TargetGraphic
{
    Vec3 positionLps;
    bool active = false;
};

/// One sample of the accessibility map: a skin entry point and how good it is.
struct AccessPoint
{
    Vec3 entryLps;
    bool feasible = false;
    double quality = 0.0; ///< in [0, 1] for feasible entries (1 best)
};

/// Traffic-light colour of a clearance against its margin: red below the margin, amber within
/// 1 mm above it, green beyond.
Rgb clearanceColor(double clearanceMm, double marginMm);

} // namespace np::render
