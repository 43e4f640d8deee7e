#pragma once
/// Reading a rendered image back from VTK (for screenshots and for tests that check pixels).

#include <cstdint>
#include <string>
#include <vector>

class vtkRenderWindow;

namespace np::render {

/// An 8-bit RGB image, rows from the top.
struct RgbImage
{
    int width = 0;
    int height = 0;
    std::vector<std::uint8_t> pixels; ///< 3 bytes per pixel, row-major, top row first

    const std::uint8_t* pixel(int x, int y) const { return pixels.data() + 3 * (static_cast<std::size_t>(y) * width + x); }
};

/// Renders `window` and reads its colour buffer through vtkWindowToImageFilter.
RgbImage captureWindow(vtkRenderWindow* window);

/// Writes an RGB image as PNG through a temporary file renamed into place;
/// throws np::Error(Io) naming the path on failure.
void writePng(const RgbImage& image, const std::string& path);

} // namespace np::render
