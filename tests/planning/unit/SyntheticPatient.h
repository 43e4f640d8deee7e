#pragma once
// A small synthetic "patient" for evaluator and search tests: a body cylinder along z (CT 40 HU in
// air), a bone sphere (obstacle) with the target on its surface, and a nerve sphere (forbidden)
// directly posterior to the target.

#include "AnalyticShapes.h"
#include "needleplan/imaging/Volume.h"
#include "needleplan/planning/BodyModel.h"
#include "needleplan/planning/Structure.h"

namespace np::test {

struct SyntheticPatient
{
    imaging::Volume ct;
    imaging::LabelMap labels;
    Cylinder body{{0, 0, 0}, {0, 0, 1}, 70.0};
    Sphere bone{{0, 20, 0}, 9.0};
    Sphere nerve{{0, 46, 0}, 4.0};
    Vec3 targetLps{0, 29.5, 0}; ///< 0.5 mm outside the bone surface, posterior
    std::vector<planning::StructureSpec> structures;
};

/// Builds the patient on a grid with the given spacing and direction (centred at the origin).
inline SyntheticPatient makeSyntheticPatient(const Vec3& spacing, const Mat3& direction = Mat3::identity())
{
    SyntheticPatient p;
    const imaging::Size3 size{static_cast<std::int64_t>(std::ceil(160.0 / spacing.x)),
                              static_cast<std::int64_t>(std::ceil(160.0 / spacing.y)),
                              static_cast<std::int64_t>(std::ceil(100.0 / spacing.z))};
    const imaging::Geometry g = gridAround({0, 0, 0}, size, spacing, direction);
    p.ct = imaging::Volume(g, -1000.0f);
    p.labels = imaging::LabelMap(g);
    p.labels.segments() = {
        {"vertebra_L4", 1, {1, 1, 1}}, {"nerve_root_L4_left", 2, {1, 1, 0}}, {"skin", 3, {1, 0.8, 0.7}}};
    for (std::int64_t k = 0; k < size[2]; ++k)
        for (std::int64_t j = 0; j < size[1]; ++j)
            for (std::int64_t i = 0; i < size[0]; ++i) {
                const Vec3 x = g.lpsFromIjk(
                    Vec3{static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)});
                if (p.body.signedDistance(x) <= 0.0)
                    p.ct.at(i, j, k) = 40.0f;
                if (p.bone.signedDistance(x) <= 0.0)
                    p.labels.at(i, j, k) = 1, p.ct.at(i, j, k) = 700.0f;
                else if (p.nerve.signedDistance(x) <= 0.0)
                    p.labels.at(i, j, k) = 2;
            }
    p.structures = planning::defaultStructures(p.labels);
    return p;
}

} // namespace np::test
