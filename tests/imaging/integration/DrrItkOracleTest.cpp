// ITK's ray-cast DRR (RayCastInterpolateImageFunction, threshold 0) as an independent oracle: on
// the sample phantom sampled on an anisotropic oblique grid, random views must agree with
// renderDrr within 1 %. ITK ignores the direction matrix, so it sees the volume in its own
// axis-aligned frame (origin 0, the grid's spacing) and the source and detector points are mapped
// into that frame.

#include "needleplan/imaging/CArmGeometry.h"
#include "needleplan/imaging/DrrRenderer.h"
#include "needleplan/phantom/LumbarPhantom.h"

#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>
#include <iostream>
#include <itkImage.h>
#include <itkRayCastInterpolateImageFunction.h>
#include <itkTranslationTransform.h>
#include <random>
#include <vector>

using np::Vec3;
using namespace np::imaging;

namespace {

using ItkImage = itk::Image<float, 3>;
using Interpolator = itk::RayCastInterpolateImageFunction<ItkImage, double>;

struct Oracle
{
    Volume ct;
    ItkImage::Pointer attenuation; ///< μ/μw as float, axis-aligned frame
};

const Oracle& oracle()
{
    static const Oracle o = [] {
        Oracle result;
        np::phantom::PhantomOptions options;
        options.spacing = {1.6, 1.9, 2.5};
        options.obliqueDeg = 20.0;
        options.noiseHu = 0.0;
        result.ct = np::phantom::generateLumbarPhantom(options).ct;
        const Geometry& g = result.ct.geometry();
        // Air in the outer 3 voxels: ITK integrates one plane fewer than the grid's extent where
        // matter reaches the volume's faces (a homogeneous 20 mm box reads 19.5 mm), a boundary
        // convention rather than an error, so the comparison keeps matter off the faces.
        for (std::int64_t k = 0; k < g.size[2]; ++k)
            for (std::int64_t j = 0; j < g.size[1]; ++j)
                for (std::int64_t i = 0; i < g.size[0]; ++i)
                    if (std::min({i, j, k, g.size[0] - 1 - i, g.size[1] - 1 - j, g.size[2] - 1 - k}) < 3)
                        result.ct.at(i, j, k) = -1000.0f;
        result.attenuation = ItkImage::New();
        ItkImage::RegionType region;
        region.SetSize({static_cast<itk::SizeValueType>(g.size[0]),
                        static_cast<itk::SizeValueType>(g.size[1]),
                        static_cast<itk::SizeValueType>(g.size[2])});
        result.attenuation->SetRegions(region);
        const double spacing[3] = {g.spacing.x, g.spacing.y, g.spacing.z};
        result.attenuation->SetSpacing(spacing);
        result.attenuation->Allocate();
        float* out = result.attenuation->GetBufferPointer();
        const float* in = result.ct.data();
        for (std::int64_t n = 0; n < g.voxelCount(); ++n)
            out[n] = std::max(0.0f, 1.0f + in[n] / 1000.0f);
        return result;
    }();
    return o;
}

Interpolator::PointType itkPoint(const Geometry& g, const Vec3& pointLps)
{
    const Vec3 local = g.directionLps.transposed() * (pointLps - g.originLps);
    Interpolator::PointType p;
    p[0] = local.x;
    p[1] = local.y;
    p[2] = local.z;
    return p;
}

} // namespace

TEST(DrrItkOracle, AgreesWithItkRayCastOnRandomViews)
{
    const Oracle& o = oracle();
    const Geometry& g = o.ct.geometry();
    const AttenuationVolume volume(o.ct);
    const Vec3 centerLps =
        g.lpsFromIjk({0.5 * (g.size[0] - 1), 0.5 * (g.size[1] - 1), 0.5 * (g.size[2] - 1)});
    std::mt19937 random(5);
    std::uniform_real_distribution<double> primary(-180.0, 180.0), secondary(-50.0, 50.0),
        offset(-30.0, 30.0);
    std::vector<double> relative;
    for (int v = 0; v < 4; ++v) {
        CArmParameters p;
        p.primaryDeg = primary(random);
        p.secondaryDeg = secondary(random);
        p.isocenterLps = centerLps + Vec3{offset(random), offset(random), offset(random)};
        p.columns = 96;
        p.rows = 80;
        p.columnSpacingMm = 4.0;
        p.rowSpacingMm = 4.0;
        const CArmGeometry view(p);
        const DrrImage drr = renderDrr(volume, view);

        auto interpolator = Interpolator::New();
        interpolator->SetInputImage(o.attenuation);
        interpolator->SetThreshold(0.0);
        auto identity = itk::TranslationTransform<double, 3>::New();
        interpolator->SetTransform(identity);
        interpolator->SetFocalPoint(itkPoint(g, view.sourceLps()));
        for (int row = 0; row < p.rows; ++row)
            for (int column = 0; column < p.columns; ++column) {
                const double expected =
                    interpolator->Evaluate(itkPoint(g, view.detectorPointLps({double(column), double(row)})));
                if (expected < 20.0)
                    continue; // the body's edge and air: relative figures mean nothing there
                relative.push_back(std::abs(drr.at(column, row) - expected) / expected);
            }
    }
    ASSERT_GT(relative.size(), 5000u);
    std::sort(relative.begin(), relative.end());
    const double median = relative[relative.size() / 2];
    const double p99 = relative[static_cast<std::size_t>(0.99 * (relative.size() - 1))];
    std::cout << "DRR vs ITK ray cast: " << relative.size() << " pixels, median relative difference "
              << 100 * median << " %, 99th percentile " << 100 * p99 << " %, max " << 100 * relative.back()
              << " %\n";
    EXPECT_LE(median, 0.002);
    EXPECT_LE(p99, 0.01);
}
