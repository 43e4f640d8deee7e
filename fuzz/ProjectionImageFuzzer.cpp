// libFuzzer target: a projection image (XA, RF, DX, CR, Enhanced XA/XRF): the header, the geometry
// of every frame with its projection matrix and a ray, and the pixels of every frame.
#include "FuzzSupport.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ProjectionImage.h"

#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string path = np::fuzz::writeInput(data, size, ".dcm");
    try {
        const np::imaging::ProjectionImage image = np::imaging::loadProjectionImage(path, true);
        const int frames = std::min(image.frameCount, 64);
        for (int f = 0; f < frames; ++f) {
            try {
                const np::imaging::CArmGeometry view = image.frameView(f, {1.0, -2.0, 3.0});
                const auto matrix = view.projectionMatrix();
                const auto pixel = matrix.project({10.0, 20.0, -30.0});
                (void)view.ray(pixel);
            } catch (const np::Error&) {
            }
        }
    } catch (const np::Error&) {
    }
    return 0;
}
