#pragma once
// Analytic description of the lumbar phantom: shapes in LPS millimetres with labels and
// precedence. Private to np_phantom.

#include <cstdint>
#include <string>
#include <vector>

#include "needleplan/imaging/Vec3.h"
#include "needleplan/imaging/Volume.h"

namespace np::phantom::detail {

/// Label values of the phantom's structures (the order of phantomStructures()).
enum Label : std::uint16_t
{
    Air = 0,
    Skin = 1, Fat, Body, Muscle, PsoasLeft, PsoasRight, KidneyLeft, KidneyRight, Aorta, Ivc,
    IliacArteryLeft, IliacArteryRight, IliacVeinLeft, IliacVeinRight,
    DiscL2L3, DiscL3L4, DiscL4L5, DiscL5S1,
    FacetL3L4Left, FacetL3L4Right, FacetL4L5Left, FacetL4L5Right, FacetL5S1Left, FacetL5S1Right,
    VertebraL3, VertebraL4, VertebraL5, Sacrum, IliumLeft, IliumRight,
    SpinalCanal, Dura,
    RootL3Left, RootL3Right, RootL4Left, RootL4Right, RootL5Left, RootL5Right, RootS1Left, RootS1Right,
    Table,
    LabelCount
};

/// Precedence of a label where shapes overlap (higher wins).
int precedence(std::uint16_t label);
bool isBone(std::uint16_t label);

struct Shape
{
    enum class Kind { Superquadric, Cylinder, Capsule };
    Kind kind = Kind::Superquadric;
    Vec3 centre;        // superquadric / cylinder centre; capsule start
    Vec3 end;           // capsule end
    Mat3 frame;         // columns: local axes u, v, w (cylinder axis = w)
    Vec3 semi;          // semi-axes along u, v, w (cylinder: w = half length); capsule: x = radius
    int exponent = 2;   // even: 2 ellipse, 4 / 6 rounded box
    int clipCount = 0;
    Vec3 clipPoint[2];
    Vec3 clipNormal[2]; // keeps points with dot(p - clipPoint, clipNormal) >= 0
    std::uint16_t label = 0;
    Vec3 boxMin, boxMax; // LPS bounding box

    bool contains(const Vec3& pointLps) const;
};

/// A named target before it is published.
struct TargetSpec
{
    std::string name, level, side, kind, description;
    Vec3 positionLps;
};

/// The whole phantom: all shapes (in any order; precedence decides) and the targets.
struct Anatomy
{
    std::vector<Shape> shapes;
    std::vector<TargetSpec> targets;
    Vec3 fieldCentreLps;
    Vec3 fieldExtentMm;

    /// Label at a point: the highest-precedence shape containing it.
    std::uint16_t labelAt(const Vec3& pointLps) const;
};

/// The one phantom anatomy (built once, thread-safe to read).
const Anatomy& anatomy();

/// Cancellous HU of a bone label.
float cancellousHu(std::uint16_t label);
/// Soft-tissue HU of a non-bone label.
float tissueHu(std::uint16_t label);

} // namespace np::phantom::detail
