// The lumbar phantom's anatomy, composed from analytic shapes in LPS millimetres
// (x towards the patient's left, y posterior, z superior). The vertebral bodies are centred on
// x = 0, y = 0; the posterior elements lie at larger y.

#include "PhantomAnatomy.h"

#include "needleplan/imaging/Error.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace np::phantom::detail {

namespace {

constexpr double kHuge = 1.0e4;

double powEven(double v, int exponent)
{
    const double s = v * v;
    switch (exponent) {
    case 2: return s;
    case 4: return s * s;
    default: return s * s * s;
    }
}

Mat3 frameFromAxes(const Vec3& u, const Vec3& v)
{
    const Vec3 un = normalized(u);
    const Vec3 vn = normalized(v - un * dot(v, un));
    return Mat3::fromColumns(un, vn, cross(un, vn));
}

void computeBox(Shape& s)
{
    if (s.kind == Shape::Kind::Capsule) {
        for (int a = 0; a < 3; ++a) {
            s.boxMin[a] = std::min(s.centre[a], s.end[a]) - s.semi.x;
            s.boxMax[a] = std::max(s.centre[a], s.end[a]) + s.semi.x;
        }
        return;
    }
    for (int a = 0; a < 3; ++a) {
        double extent = 0.0;
        for (int c = 0; c < 3; ++c)
            extent += std::abs(s.frame(a, c)) * s.semi[c];
        s.boxMin[a] = s.centre[a] - extent;
        s.boxMax[a] = s.centre[a] + extent;
    }
}

Shape superquadric(std::uint16_t label, const Vec3& centre, const Vec3& semi, int exponent = 2,
                   const Mat3& frame = Mat3::identity())
{
    Shape s;
    s.kind = Shape::Kind::Superquadric;
    s.label = label;
    s.centre = centre;
    s.semi = semi;
    s.exponent = exponent;
    s.frame = frame;
    computeBox(s);
    return s;
}

/// Cylinder along the frame's w axis with a superellipse cross-section (semi u, v), half length.
Shape cylinder(std::uint16_t label, const Vec3& centre, double semiU, double semiV, double halfLength,
               const Mat3& frame = Mat3::identity(), int exponent = 2)
{
    Shape s = superquadric(label, centre, {semiU, semiV, halfLength}, exponent, frame);
    s.kind = Shape::Kind::Cylinder;
    computeBox(s);
    return s;
}

/// Cylinder from `a` to `b` with semi-axes `semiAcross` (towards `across`) and `semiOther`.
Shape cylinderBetween(std::uint16_t label, const Vec3& a, const Vec3& b, const Vec3& across, double semiAcross,
                      double semiOther, int exponent = 2)
{
    const Vec3 axis = b - a;
    const Vec3 w = normalized(axis);
    const Vec3 u = normalized(across - w * dot(across, w));
    const Mat3 frame = Mat3::fromColumns(u, cross(w, u), w);
    return cylinder(label, (a + b) * 0.5, semiAcross, semiOther, norm(axis) * 0.5, frame, exponent);
}

Shape capsule(std::uint16_t label, const Vec3& a, const Vec3& b, double radius)
{
    Shape s;
    s.kind = Shape::Kind::Capsule;
    s.label = label;
    s.centre = a;
    s.end = b;
    s.semi = {radius, 0, 0};
    computeBox(s);
    return s;
}

Shape clipped(Shape s, const Vec3& point, const Vec3& normal)
{
    s.clipPoint[s.clipCount] = point;
    s.clipNormal[s.clipCount] = normal;
    ++s.clipCount;
    return s;
}

/// Tube of `radius` along a Catmull-Rom spline through `points` (as a chain of capsules).
void addTube(std::vector<Shape>& shapes, std::uint16_t label, const std::vector<Vec3>& points, double radius,
             int samplesPerSpan = 6)
{
    std::vector<Vec3> curve;
    const std::size_t n = points.size();
    for (std::size_t span = 0; span + 1 < n; ++span) {
        const Vec3 p0 = points[span == 0 ? 0 : span - 1];
        const Vec3 p1 = points[span];
        const Vec3 p2 = points[span + 1];
        const Vec3 p3 = points[std::min(span + 2, n - 1)];
        for (int s = 0; s < samplesPerSpan; ++s) {
            const double t = static_cast<double>(s) / samplesPerSpan;
            const double t2 = t * t, t3 = t2 * t;
            curve.push_back((p1 * 2.0 + (p2 - p0) * t + (p0 * 2.0 - p1 * 5.0 + p2 * 4.0 - p3) * t2 +
                             (p1 * 3.0 - p0 - p2 * 3.0 + p3) * t3) *
                            0.5);
        }
    }
    curve.push_back(points.back());
    for (std::size_t c = 0; c + 1 < curve.size(); ++c)
        shapes.push_back(capsule(label, curve[c], curve[c + 1], radius));
}

struct Level
{
    const char* name;
    double z;          // body centre
    double halfWidth;  // body semi-axis along x
    double halfDepth;  // body semi-axis along y
    std::uint16_t bone;
};

constexpr double kCanalY = 26.0;
constexpr double kJointGap = 2.0;

Vec3 facetCentre(double lowerZ, double side)
{
    return {side * 20.0, 37.0, lowerZ + 19.0};
}
Vec3 facetNormal(double side)
{
    // From the inferior articular process (medial, posterior) to the superior one (lateral, anterior).
    return normalized(Vec3{side, -1.0, 0.0});
}

/// A point just outside bone found by marching from `fromLps` towards `towardsLps`.
Vec3 surfacePoint(const Anatomy& anatomy, const Vec3& fromLps, const Vec3& towardsLps, double standOffMm)
{
    const Vec3 direction = normalized(towardsLps - fromLps);
    const double length = distance(fromLps, towardsLps);
    double outside = 0.0;
    double inside = -1.0;
    for (double t = 0.0; t <= length; t += 0.1) {
        if (isBone(anatomy.labelAt(fromLps + direction * t))) {
            inside = t;
            break;
        }
        outside = t;
    }
    if (inside < 0.0)
        throw Error(ErrorCode::Internal, "phantom: a surface target's approach meets no bone");
    for (int n = 0; n < 30; ++n) {
        const double mid = 0.5 * (outside + inside);
        (isBone(anatomy.labelAt(fromLps + direction * mid)) ? inside : outside) = mid;
    }
    return fromLps + direction * (outside - standOffMm);
}

Anatomy buildAnatomy()
{
    Anatomy a;
    auto& shapes = a.shapes;
    a.fieldCentreLps = {0.0, -25.0, 17.5};
    a.fieldExtentMm = {360.0, 260.0, 165.0};

    // --- Body wall: skin, subcutaneous fat, generic soft tissue; the table under the belly (prone).
    const Vec3 bodyCentre{0.0, -20.0, 0.0};
    shapes.push_back(cylinder(Skin, bodyCentre, 165.0, 115.0, kHuge));
    shapes.push_back(cylinder(Fat, bodyCentre, 163.0, 113.0, kHuge));
    shapes.push_back(cylinder(Body, bodyCentre + Vec3{0, -4.0, 0}, 148.0, 96.0, kHuge));
    shapes.push_back(cylinder(Table, {0.0, -145.0, 0.0}, 220.0, 10.0, kHuge, Mat3::identity(), 6));

    // --- Muscles: paraspinals (erector spinae, multifidus), quadratus lumborum, psoas.
    for (double side : {1.0, -1.0}) {
        shapes.push_back(cylinder(Muscle, {side * 30.0, 61.0, 0.0}, 27.0, 22.0, kHuge));
        shapes.push_back(superquadric(Muscle, {side * 62.0, 36.0, 60.0}, {14.0, 10.0, 60.0}));
        shapes.push_back(superquadric(side > 0 ? PsoasLeft : PsoasRight, {side * 41.0, 1.0, -25.0}, {16.0, 15.0, 140.0}));
    }
    // --- Kidneys (lower poles at the L3 level).
    shapes.push_back(superquadric(KidneyLeft, {72.0, 14.0, 112.0}, {24.0, 18.0, 55.0}));
    shapes.push_back(superquadric(KidneyRight, {-70.0, 14.0, 104.0}, {24.0, 18.0, 55.0}));

    // --- Great vessels: aorta left of midline, IVC right, bifurcations near L4 and L5.
    shapes.push_back(capsule(Aorta, {12.0, -30.0, 130.0}, {12.0, -30.0, 42.0}, 10.0));
    addTube(shapes, IliacArteryLeft, {{12.0, -30.0, 42.0}, {30.0, -26.0, -10.0}, {46.0, -20.0, -80.0}}, 6.0);
    addTube(shapes, IliacArteryRight, {{12.0, -30.0, 42.0}, {-10.0, -30.0, -10.0}, {-36.0, -25.0, -80.0}}, 6.0);
    shapes.push_back(capsule(Ivc, {-18.0, -28.0, 130.0}, {-18.0, -28.0, 8.0}, 11.0));
    addTube(shapes, IliacVeinLeft, {{-18.0, -28.0, 8.0}, {25.0, -17.0, -25.0}, {40.0, -10.0, -80.0}}, 7.0);
    addTube(shapes, IliacVeinRight, {{-18.0, -28.0, 8.0}, {-28.0, -22.0, -25.0}, {-40.0, -15.0, -80.0}}, 7.0);

    // --- Vertebrae.
    const Level levels[] = {{"L3", 74.0, 24.0, 17.0, VertebraL3},
                            {"L4", 37.0, 25.0, 17.5, VertebraL4},
                            {"L5", 0.0, 26.0, 18.0, VertebraL5},
                            {"S1", -36.0, 25.0, 17.0, Sacrum}};
    const std::uint16_t discs[] = {DiscL3L4, DiscL4L5, DiscL5S1};
    const std::uint16_t facets[3][2] = {{FacetL3L4Left, FacetL3L4Right},
                                        {FacetL4L5Left, FacetL4L5Right},
                                        {FacetL5S1Left, FacetL5S1Right}};
    const std::uint16_t roots[4][2] = {{RootL3Left, RootL3Right},
                                       {RootL4Left, RootL4Right},
                                       {RootL5Left, RootL5Right},
                                       {RootS1Left, RootS1Right}};
    // L2-L3 disc at the top of the field.
    shapes.push_back(cylinder(DiscL2L3, {0.0, 0.0, 92.5}, 23.5, 16.5, 5.5));
    for (int n = 0; n < 4; ++n) {
        const Level& lv = levels[n];
        const bool sacral = n == 3;
        const double z = lv.z;
        // Body (the sacrum's S1 body runs down out of the field).
        if (!sacral)
            shapes.push_back(cylinder(lv.bone, {0.0, 0.0, z}, lv.halfWidth, lv.halfDepth, 13.0));
        else
            shapes.push_back(cylinder(lv.bone, {0.0, 0.0, z - 17.0}, lv.halfWidth, lv.halfDepth, 30.0));
        if (n < 3) {
            const Level& below = levels[n + 1];
            const double top = below.z + 13.0, bottom = z - 13.0;
            shapes.push_back(cylinder(discs[n], {0.0, 0.0, 0.5 * (top + bottom)}, 0.5 * (lv.halfWidth + below.halfWidth),
                                      0.5 * (lv.halfDepth + below.halfDepth), 0.5 * (bottom - top)));
        }
        for (double side : {1.0, -1.0}) {
            // Pedicle: body to the posterior arch, in the upper half of the vertebra.
            shapes.push_back(cylinderBetween(lv.bone, {side * 15.5, 6.0, z + 4.0}, {side * 15.5, 35.0, z + 4.0},
                                             {1, 0, 0}, 4.5, 7.0));
            if (!sacral) {
                // Lamina: from the pedicle-lamina junction to the midline, roofing the canal.
                const Vec3 from{side * 15.0, 35.0, z - 4.0}, to{0.0, 44.0, z - 4.0};
                shapes.push_back(cylinderBetween(lv.bone, from, to, {0, 0, 1}, 11.0, 3.2, 4));
                // Transverse process, lateral from the pedicle-lamina junction.
                const double tpLength = n == 2 ? 38.0 : 45.0;
                const double tpHalfZ = n == 2 ? 6.0 : 5.0;
                shapes.push_back(cylinderBetween(lv.bone, {side * 14.0, 28.0, z + 3.0}, {side * tpLength, 26.0, z + 3.0},
                                                 {0, 0, 1}, tpHalfZ, 3.5, 2));
            } else {
                // Sacral ala, lateral to the S1 body; its upper surface is the floor of the L5
                // dorsal ramus groove.
                shapes.push_back(superquadric(Sacrum, {side * 36.0, 14.0, z - 10.0}, {19.0, 20.0, 17.0}, 4));
            }
            // Superior articular process: rises from the pedicle to the facet joint above.
            const Vec3 joint = facetCentre(z, side);
            const Vec3 normal = facetNormal(side);
            const Vec3 sapKeep = joint + normal * (kJointGap * 0.5);
            Shape sapHead = superquadric(lv.bone, joint + normal * (kJointGap * 0.5 + 3.5), {3.5, 7.0, 10.0}, 4,
                                         frameFromAxes(normal, cross(Vec3{0, 0, 1}, normal)));
            shapes.push_back(clipped(sapHead, sapKeep, normal));
            shapes.push_back(clipped(capsule(lv.bone, {side * 19.0, 33.0, z + 5.0}, joint + normal * 4.5 - Vec3{0, 0, 5.0}, 4.5),
                                     sapKeep, normal));
            // Inferior articular process of the vertebra above, meeting this SAP across the joint.
            if (n > 0) {
                const Level& above = levels[n - 1];
                const Vec3 iapKeep = joint - normal * (kJointGap * 0.5);
                Shape iapHead = superquadric(above.bone, joint - normal * (kJointGap * 0.5 + 3.5), {3.5, 7.0, 10.0}, 4,
                                             frameFromAxes(normal, cross(Vec3{0, 0, 1}, normal)));
                shapes.push_back(clipped(iapHead, iapKeep, -normal));
                shapes.push_back(clipped(capsule(above.bone, joint - normal * 4.5 + Vec3{0, 0, 4.0},
                                                 {side * 9.0, 42.0, above.z - 11.0}, 4.0),
                                         iapKeep, -normal));
                // The joint space itself.
                shapes.push_back(superquadric(facets[n - 1][side > 0 ? 0 : 1], joint, {kJointGap * 0.5, 7.0, 10.0}, 4,
                                              frameFromAxes(normal, cross(Vec3{0, 0, 1}, normal))));
            }
        }
        // Spinous process (lumbar) or the median sacral crest with the dorsal sacral plate.
        if (!sacral)
            shapes.push_back(superquadric(lv.bone, {0.0, 58.0, z - 4.0}, {3.5, 16.0, 10.0}, 4));
        else
            shapes.push_back(superquadric(Sacrum, {0.0, 42.0, z - 22.0}, {30.0, 7.0, 14.0}, 4));
    }
    // Iliac wings, lateral to the sacrum, crest near the L4-L5 disc.
    for (double side : {1.0, -1.0}) {
        const Vec3 normal = normalized(Vec3{side * 0.94, -0.34, 0.0});
        shapes.push_back(superquadric(side > 0 ? IliumLeft : IliumRight, {side * 74.0, 30.0, -40.0}, {7.0, 58.0, 36.0}, 4,
                                      frameFromAxes(normal, Vec3{0, 0, 1})));
    }

    // --- Spinal canal (epidural fat) and thecal sac (dura with CSF), the length of the field.
    shapes.push_back(cylinder(SpinalCanal, {0.0, kCanalY, 0.0}, 11.5, 8.5, kHuge));
    shapes.push_back(cylinder(Dura, {0.0, kCanalY, 0.0}, 8.5, 6.5, kHuge));

    // --- Exiting nerve roots: from the thecal sac under each pedicle through the foramen,
    // antero-laterally and caudally into the psoas. S1 leaves through the sacral foramen.
    for (int n = 0; n < 4; ++n) {
        const double z = levels[n].z;
        for (double side : {1.0, -1.0}) {
            const std::uint16_t label = roots[n][side > 0 ? 0 : 1];
            if (n < 3)
                addTube(shapes, label,
                        {{side * 6.0, 24.0, z - 2.0}, {side * 14.0, 21.0, z - 8.0}, {side * 23.0, 19.0, z - 12.0},
                         {side * 33.0, 10.0, z - 20.0}, {side * 42.0, -2.0, z - 32.0}, {side * 48.0, -12.0, z - 45.0}},
                        2.5);
            else
                addTube(shapes, label,
                        {{side * 6.0, 24.0, z - 2.0}, {side * 12.0, 18.0, z - 8.0}, {side * 18.0, 8.0, z - 16.0},
                         {side * 24.0, -6.0, z - 24.0}, {side * 30.0, -20.0, z - 36.0}},
                        3.0);
        }
    }

    // --- Targets, placed on the analytic shapes above.
    const char* sideName[2] = {"left", "right"};
    for (int s = 0; s < 2; ++s) {
        const double side = s == 0 ? 1.0 : -1.0;
        // Medial branches: the L(n-1) medial branch crosses the root of the L(n) transverse process
        // at its junction with the L(n) SAP.
        for (int n = 0; n < 3; ++n) {
            const double z = levels[n].z;
            const std::string nerve = n == 0 ? "L2" : levels[n - 1].name;
            TargetSpec t;
            t.level = nerve;
            t.side = sideName[s];
            t.kind = "medial_branch";
            t.name = nerve + " medial branch " + t.side + " (SAP-TP junction)";
            t.description = std::string("bone surface at the junction of the ") + levels[n].name +
                            " superior articular process and transverse process";
            t.positionLps = surfacePoint(a, {side * 36.0, 40.0, z + 18.0}, {side * 22.0, 30.0, z + 6.0}, 0.3);
            a.targets.push_back(t);
        }
        {
            TargetSpec t;
            t.level = "L5";
            t.side = sideName[s];
            t.kind = "dorsal_ramus";
            t.name = std::string("L5 dorsal ramus ") + t.side;
            t.description = "groove between the sacral ala and the S1 superior articular process";
            t.positionLps = surfacePoint(a, {side * 40.0, 40.0, -14.0}, {side * 24.0, 28.0, -32.0}, 0.3);
            a.targets.push_back(t);
        }
        for (int n = 0; n < 3; ++n) {
            TargetSpec t;
            t.level = std::string(levels[n].name) + "-" + levels[n + 1].name;
            t.side = sideName[s];
            t.kind = "facet_joint";
            t.name = t.level + " facet " + t.side;
            t.description = "centre of the joint space between the " + std::string(levels[n].name) +
                            " inferior and the " + levels[n + 1].name + " superior articular process";
            t.positionLps = facetCentre(levels[n + 1].z, side);
            a.targets.push_back(t);
        }
        for (int n = 0; n < 3; ++n) {
            TargetSpec t;
            t.level = levels[n].name;
            t.side = sideName[s];
            t.kind = "transforaminal";
            t.name = t.level + " transforaminal " + t.side + " (safe triangle)";
            t.description = "under the " + t.level + " pedicle, above and lateral to the exiting " + t.level + " root";
            t.positionLps = {side * 19.0, 20.0, levels[n].z - 5.0};
            a.targets.push_back(t);
        }
    }
    return a;
}

} // namespace

int precedence(std::uint16_t label)
{
    if (label == Air)
        return 0;
    if (label == Table)
        return 1;
    if (label == Skin)
        return 2;
    if (label == Fat)
        return 3;
    if (label == Body)
        return 4;
    if (label == Muscle)
        return 5;
    if (label == PsoasLeft || label == PsoasRight)
        return 6;
    if (label == KidneyLeft || label == KidneyRight)
        return 7;
    if (label >= Aorta && label <= IliacVeinRight)
        return 8;
    if (label >= DiscL2L3 && label <= FacetL5S1Right)
        return 9;
    if (isBone(label))
        return 10;
    if (label == SpinalCanal)
        return 11;
    if (label == Dura)
        return 12;
    return 13; // nerve roots
}

bool isBone(std::uint16_t label)
{
    return label >= VertebraL3 && label <= IliumRight;
}

bool Shape::contains(const Vec3& p) const
{
    for (int c = 0; c < clipCount; ++c)
        if (dot(p - clipPoint[c], clipNormal[c]) < 0.0)
            return false;
    if (kind == Kind::Capsule) {
        const Vec3 axis = end - centre;
        const double lengthSquared = dot(axis, axis);
        double t = lengthSquared > 0.0 ? dot(p - centre, axis) / lengthSquared : 0.0;
        t = std::min(1.0, std::max(0.0, t));
        const Vec3 d = p - (centre + axis * t);
        return dot(d, d) <= semi.x * semi.x;
    }
    const Vec3 d = p - centre;
    const double u = (frame(0, 0) * d.x + frame(1, 0) * d.y + frame(2, 0) * d.z) / semi.x;
    const double v = (frame(0, 1) * d.x + frame(1, 1) * d.y + frame(2, 1) * d.z) / semi.y;
    const double w = (frame(0, 2) * d.x + frame(1, 2) * d.y + frame(2, 2) * d.z) / semi.z;
    if (kind == Kind::Cylinder)
        return std::abs(w) <= 1.0 && powEven(u, exponent) + powEven(v, exponent) <= 1.0;
    return powEven(u, exponent) + powEven(v, exponent) + powEven(w, exponent) <= 1.0;
}

std::uint16_t Anatomy::labelAt(const Vec3& p) const
{
    std::uint16_t best = Air;
    int bestPrecedence = 0;
    for (const Shape& s : shapes) {
        const int rank = precedence(s.label);
        if (rank <= bestPrecedence)
            continue;
        if (p.x < s.boxMin.x || p.x > s.boxMax.x || p.y < s.boxMin.y || p.y > s.boxMax.y || p.z < s.boxMin.z ||
            p.z > s.boxMax.z)
            continue;
        if (s.contains(p)) {
            best = s.label;
            bestPrecedence = rank;
        }
    }
    return best;
}

const Anatomy& anatomy()
{
    static const Anatomy instance = buildAnatomy();
    return instance;
}

float cancellousHu(std::uint16_t label)
{
    switch (label) {
    case VertebraL3: return 290.0f;
    case VertebraL4: return 270.0f;
    case VertebraL5: return 250.0f;
    case Sacrum: return 230.0f;
    default: return 300.0f;
    }
}

float tissueHu(std::uint16_t label)
{
    switch (label) {
    case Air: return -1000.0f;
    case Skin: return 30.0f;
    case Fat: return -100.0f;
    case Body: return 35.0f;
    case Muscle: case PsoasLeft: case PsoasRight: return 50.0f;
    case KidneyLeft: case KidneyRight: return 32.0f;
    case Aorta: case IliacArteryLeft: case IliacArteryRight: return 45.0f;
    case Ivc: case IliacVeinLeft: case IliacVeinRight: return 40.0f;
    case SpinalCanal: return -80.0f;
    case Dura: return 8.0f;
    case Table: return 150.0f;
    default: break;
    }
    if (label >= DiscL2L3 && label <= DiscL5S1)
        return 85.0f;
    if (label >= FacetL3L4Left && label <= FacetL5S1Right)
        return 20.0f;
    return 35.0f; // nerve roots
}

} // namespace np::phantom::detail
