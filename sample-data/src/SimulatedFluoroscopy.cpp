#include "needleplan/phantom/SimulatedFluoroscopy.h"

#include "needleplan/imaging/DrrRenderer.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace np::phantom {

using namespace np::imaging;

namespace {

/// Relative attenuation of steel against water at about 60 keV (iron 1.2 cm²/g × 7.9 g/cm³ against
/// water 0.206 /cm).
constexpr double kSteelRelativeAttenuation = 46.0;
constexpr double kWaterAttenuationPerMm = 0.02;

void gaussianBlur(std::vector<double>& image, int columns, int rows, double sigma)
{
    const int radius = static_cast<int>(std::ceil(3.0 * sigma));
    std::vector<double> kernel(static_cast<std::size_t>(2 * radius + 1));
    double sum = 0.0;
    for (int i = -radius; i <= radius; ++i)
        sum += kernel[static_cast<std::size_t>(i + radius)] = std::exp(-0.5 * i * i / (sigma * sigma));
    for (double& k : kernel)
        k /= sum;
    std::vector<double> tmp(image.size(), 0.0);
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < columns; ++c) {
            double v = 0.0;
            for (int i = -radius; i <= radius; ++i)
                v += kernel[static_cast<std::size_t>(i + radius)] *
                     image[static_cast<std::size_t>(r) * columns + std::clamp(c + i, 0, columns - 1)];
            tmp[static_cast<std::size_t>(r) * columns + c] = v;
        }
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < columns; ++c) {
            double v = 0.0;
            for (int i = -radius; i <= radius; ++i)
                v += kernel[static_cast<std::size_t>(i + radius)] *
                     tmp[static_cast<std::size_t>(std::clamp(r + i, 0, rows - 1)) * columns + c];
            image[static_cast<std::size_t>(r) * columns + c] = v;
        }
}

/// A 5 × 7 block character drawn from the bits of `pattern` (35 bits, row by row).
void drawGlyph(std::vector<float>& image, int columns, int rows, int left, int top, int scale,
               std::uint64_t pattern)
{
    for (int y = 0; y < 7; ++y)
        for (int x = 0; x < 5; ++x)
            if ((pattern >> (y * 5 + x)) & 1u)
                for (int dy = 0; dy < scale; ++dy)
                    for (int dx = 0; dx < scale; ++dx) {
                        const int c = left + x * scale + dx, r = top + y * scale + dy;
                        if (c >= 0 && r >= 0 && c < columns && r < rows)
                            image[static_cast<std::size_t>(r) * columns + c] = 255.0f;
                    }
}

} // namespace

FluoroFrame simulateFluoroscopy(const AttenuationVolume& ct, const CArmGeometry& view,
                                const RigidTransform& viewFromCt, const FluoroSimulationOptions& options)
{
    const DrrImage drr = renderDrr(ct, view, viewFromCt);
    const int columns = drr.columns, rows = drr.rows;
    std::vector<double> path(drr.pathLengthMm.begin(), drr.pathLengthMm.end());

    // The needle: steel along the chord of each ray through a cylinder around the segment.
    if (options.needleLps) {
        const Vec3 a = viewFromCt.apply(options.needleLps->first),
                   b = viewFromCt.apply(options.needleLps->second);
        const double radius = 0.5 * options.needleDiameterMm;
        const Vec3 axis = normalized(b - a);
        const double length = distance(a, b);
        for (int r = 0; r < rows; ++r)
            for (int c = 0; c < columns; ++c) {
                const RayLps ray = view.ray({static_cast<double>(c), static_cast<double>(r)});
                // Closest approach of the ray's line and the needle's segment.
                const Vec3 w0 = ray.originLps - a;
                const double bb = dot(ray.directionLps, axis), d = dot(ray.directionLps, w0),
                             e = dot(axis, w0);
                const double denominator = 1.0 - bb * bb;
                if (denominator < 1e-9)
                    continue;
                const double s = std::clamp((bb * e - d) / denominator, 0.0, 1e9);
                const double t = std::clamp((e - bb * d) / denominator, 0.0, length);
                const double gap = distance(ray.originLps + ray.directionLps * s, a + axis * t);
                if (gap >= radius)
                    continue;
                const double chord = 2.0 * std::sqrt(radius * radius - gap * gap) / std::sqrt(denominator);
                path[static_cast<std::size_t>(r) * columns + c] +=
                    kSteelRelativeAttenuation * std::min(chord, 40.0);
            }
    }

    // Detected quanta behind the median patient path, Poisson noise, blur.
    std::vector<double> patient;
    for (double p : path)
        if (p > 1.0)
            patient.push_back(p);
    double reference = 0.0;
    if (!patient.empty()) {
        auto middle = patient.begin() + static_cast<std::ptrdiff_t>(patient.size() / 2);
        std::nth_element(patient.begin(), middle, patient.end());
        reference = *middle;
    }
    std::mt19937 random(options.seed);
    std::vector<double> quanta(path.size());
    for (std::size_t i = 0; i < path.size(); ++i) {
        const double mean =
            std::max(1.0, options.photonsPerPixel) *
            std::exp(-kWaterAttenuationPerMm * std::clamp(path[i] - reference, -200.0, 600.0));
        if (options.photonsPerPixel > 0.0) {
            std::poisson_distribution<long> poisson(mean);
            quanta[i] = static_cast<double>(poisson(random));
        } else {
            quanta[i] = mean;
        }
    }
    if (options.blurSigmaPx > 0.0)
        gaussianBlur(quanta, columns, rows, options.blurSigmaPx);

    // Display: log of the quanta, windowed on the 1st-99th percentiles, then a gamma curve.
    std::vector<double> logQuanta(quanta.size());
    for (std::size_t i = 0; i < quanta.size(); ++i)
        logQuanta[i] = std::log(quanta[i] + 1.0);
    std::vector<double> sorted = logQuanta;
    std::sort(sorted.begin(), sorted.end());
    const double low = sorted[sorted.size() / 100], high = sorted[sorted.size() * 99 / 100];
    FluoroFrame frame;
    frame.columns = columns;
    frame.rows = rows;
    frame.pixels.resize(quanta.size());
    for (std::size_t i = 0; i < quanta.size(); ++i) {
        const double level = std::clamp((logQuanta[i] - low) / std::max(1e-9, high - low), 0.0, 1.0);
        frame.pixels[i] = static_cast<float>(std::round(250.0 * std::pow(level, options.gamma)));
    }

    // Shutters: the blocked border is black.
    if (options.collimationFraction > 0.0) {
        const int left = static_cast<int>(options.collimationFraction * columns);
        const int top = static_cast<int>(0.7 * options.collimationFraction * rows);
        for (int r = 0; r < rows; ++r)
            for (int c = 0; c < columns; ++c)
                if (c < left || c >= columns - left || r < top || r >= rows - top)
                    frame.pixels[static_cast<std::size_t>(r) * columns + c] = 0.0f;
    }
    if (options.burntInText) {
        std::mt19937_64 glyphs(options.seed * 7919u + 11u);
        const int scale = std::max(1, columns / 256);
        for (int n = 0; n < 10; ++n) {
            drawGlyph(frame.pixels, columns, rows, 4 * scale + n * 6 * scale, 4 * scale, scale, glyphs());
            drawGlyph(frame.pixels, columns, rows, columns - 64 * scale + n * 6 * scale, rows - 12 * scale,
                      scale, glyphs());
        }
        // The side marker "L" near the left edge, halfway down.
        drawGlyph(frame.pixels, columns, rows, 4 * scale, rows / 2, 2 * scale,
                  0b11111'00001'00001'00001'00001'00001'00001);
    }
    if (options.flipHorizontally || options.flipVertically) {
        std::vector<float> flipped(frame.pixels.size());
        for (int r = 0; r < rows; ++r)
            for (int c = 0; c < columns; ++c) {
                const int sc = options.flipHorizontally ? columns - 1 - c : c;
                const int sr = options.flipVertically ? rows - 1 - r : r;
                flipped[static_cast<std::size_t>(r) * columns + c] =
                    frame.pixels[static_cast<std::size_t>(sr) * columns + sc];
            }
        frame.pixels.swap(flipped);
    }
    return frame;
}

} // namespace np::phantom
