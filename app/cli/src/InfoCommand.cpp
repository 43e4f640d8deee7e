// needleplan-cli info PATH [--json]: lists every series found under PATH (and skipped files).

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <filesystem>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "CliCommand.h"
#include "needleplan/imaging/DicomScanner.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/ProjectionImage.h"

namespace np::cli {

namespace {

using nlohmann::json;
using namespace np::imaging;

struct Listed
{
    int index = 0;
    std::string kind = "volume";
    std::string seriesUid, modality, description, patientPosition, transferSyntax, source;
    Geometry geometry;
    bool hasRange = false;
    float minimum = 0.0f, maximum = 0.0f;
    std::vector<std::string> warnings;
    std::string error;
    int images = 0;
    json projection; ///< frames and geometry of a projection image (null otherwise)
};

json optionalNumber(const std::optional<double>& value)
{
    return value ? json(*value) : json(nullptr);
}

json optionalPair(const std::optional<std::array<double, 2>>& value)
{
    return value ? json::array({(*value)[0], (*value)[1]}) : json(nullptr);
}

/// frames and geometry of a projection image, from its header.
json describeProjection(const ProjectionImage& image)
{
    const ProjectionGeometry& g = image.geometry;
    const ProjectionFrameGeometry& first = g.frames.front();
    json geometry;
    geometry["primaryDeg"] = optionalNumber(first.primaryDeg);
    geometry["secondaryDeg"] = optionalNumber(first.secondaryDeg);
    geometry["sidMm"] = optionalNumber(g.sourceToDetectorMm);
    geometry["sodMm"] = optionalNumber(g.sourceToIsocenterMm);
    geometry["detectorPixelSpacingMm"] = optionalPair(g.detectorPixelSpacingMm);
    geometry["isocenterPixelSpacingMm"] = optionalPair(g.isocenterPixelSpacingMm);
    geometry["isocenterPixelSpacingSource"] = g.isocenterPixelSpacingSource;
    geometry["confidence"] = toString(g.confidence);
    geometry["missing"] = g.missing;
    geometry["positionerMotion"] = g.positionerMotion;
    geometry["fieldOfViewRotationDeg"] = g.fieldOfViewRotationDeg;
    geometry["horizontalFlip"] = g.horizontalFlip;
    geometry["patientOrientation"] = g.patientOrientation;
    if (g.frames.size() > 1) {
        json angles = json::array();
        for (const auto& frame : g.frames)
            angles.push_back(
                json::array({optionalNumber(frame.primaryDeg), optionalNumber(frame.secondaryDeg)}));
        geometry["frameAnglesDeg"] = angles;
    }
    if (first.isocenterPrimaryDeg)
        geometry["isocenterPrimaryDeg"] = *first.isocenterPrimaryDeg;
    if (first.isocenterSecondaryDeg)
        geometry["isocenterSecondaryDeg"] = *first.isocenterSecondaryDeg;
    json described;
    described["frames"] = image.frameCount;
    described["frameTimeMs"] = image.frameTimeMs > 0.0 ? json(image.frameTimeMs) : json(nullptr);
    described["monochrome1"] = image.monochrome1;
    described["geometry"] = geometry;
    return described;
}

void computeRange(const Volume& volume, Listed& listed)
{
    if (volume.voxels().empty())
        return;
    if (volume.info().hasValueRange) { // found by the loader while decoding: no second pass
        listed.minimum = volume.info().minimumValue;
        listed.maximum = volume.info().maximumValue;
        listed.hasRange = true;
        return;
    }
    const auto [low, high] = std::minmax_element(volume.voxels().begin(), volume.voxels().end());
    listed.minimum = *low;
    listed.maximum = *high;
    listed.hasRange = true;
}

json vec(const Vec3& v)
{
    return json::array({v.x, v.y, v.z});
}

json toJson(const Listed& listed)
{
    json entry;
    entry["index"] = listed.index;
    entry["kind"] = listed.kind;
    entry["seriesUid"] = listed.seriesUid;
    entry["modality"] = listed.modality;
    entry["description"] = listed.description;
    const Geometry& g = listed.geometry;
    entry["size"] = json::array({g.size[0], g.size[1], g.size[2]});
    entry["spacing"] = vec(g.spacing);
    entry["originLps"] = vec(g.originLps);
    entry["direction"] = json::array();
    for (double value : g.directionLps.m)
        entry["direction"].push_back(value);
    entry["patientPosition"] = listed.patientPosition;
    entry["huRange"] = listed.hasRange ? json::array({listed.minimum, listed.maximum}) : json(nullptr);
    entry["warnings"] = listed.warnings;
    entry["error"] = listed.error.empty() ? json(nullptr) : json(listed.error);
    entry["transferSyntax"] = listed.transferSyntax;
    entry["images"] = listed.images;
    entry["source"] = listed.source;
    if (!listed.projection.is_null()) {
        entry["frames"] = listed.projection["frames"];
        entry["frameTimeMs"] = listed.projection["frameTimeMs"];
        entry["monochrome1"] = listed.projection["monochrome1"];
        entry["geometry"] = listed.projection["geometry"];
    }
    return entry;
}

std::string text(double value)
{
    std::ostringstream out;
    out << std::setprecision(6) << value;
    return out.str();
}

std::string text(const Vec3& v)
{
    return "[" + text(v.x) + ", " + text(v.y) + ", " + text(v.z) + "]";
}

void printText(const std::vector<Listed>& series, const std::vector<SkippedFile>& skipped)
{
    std::cout << series.size() << " series\n";
    for (const Listed& s : series) {
        const Geometry& g = s.geometry;
        std::cout << "\n[" << s.index << "] " << s.kind << "  " << s.modality << "  \"" << s.description << "\"\n";
        std::cout << "  seriesUid:       " << s.seriesUid << "\n";
        std::cout << "  size:            [" << g.size[0] << ", " << g.size[1] << ", " << g.size[2] << "]\n";
        std::cout << "  spacing [mm]:    " << text(g.spacing) << "\n";
        std::cout << "  originLps:       " << text(g.originLps) << "\n";
        std::cout << "  direction:       [";
        for (int n = 0; n < 9; ++n)
            std::cout << (n ? ", " : "") << text(g.directionLps.m[static_cast<std::size_t>(n)]);
        std::cout << "]\n";
        std::cout << "  patientPosition: " << (s.patientPosition.empty() ? "-" : s.patientPosition) << "\n";
        if (s.hasRange)
            std::cout << "  huRange:         [" << text(s.minimum) << ", " << text(s.maximum) << "]\n";
        if (!s.transferSyntax.empty())
            std::cout << "  transferSyntax:  " << s.transferSyntax << "\n";
        if (!s.projection.is_null()) {
            const json& carm = s.projection["geometry"];
            auto show = [](const json& value) { return value.is_null() ? std::string("-") : value.dump(); };
            std::cout << "  frames:          " << s.projection["frames"].get<int>() << "\n";
            std::cout << "  C-arm:           primary " << show(carm["primaryDeg"]) << " deg, secondary "
                      << show(carm["secondaryDeg"]) << " deg, SID " << show(carm["sidMm"]) << " mm, SOD "
                      << show(carm["sodMm"]) << " mm\n";
            std::cout << "  pixel spacing:   detector " << show(carm["detectorPixelSpacingMm"])
                      << " mm, isocentre " << show(carm["isocenterPixelSpacingMm"]) << " mm";
            if (!carm["isocenterPixelSpacingSource"].get<std::string>().empty())
                std::cout << " (" << carm["isocenterPixelSpacingSource"].get<std::string>() << ")";
            std::cout << "\n  geometry:        " << carm["confidence"].get<std::string>();
            for (const auto& missing : carm["missing"])
                std::cout << "; missing " << missing.get<std::string>();
            std::cout << "\n";
        }
        for (const auto& warning : s.warnings)
            std::cout << "  warning:         " << warning << "\n";
        if (!s.error.empty())
            std::cout << "  error:           " << s.error << "\n";
    }
    std::cout << "\n" << skipped.size() << " skipped file(s)\n";
    for (const auto& file : skipped)
        std::cout << "  " << file.path << ": " << file.reason << "\n";
}

int runInfo(const std::string& path, bool asJson)
{
    std::vector<Listed> listing;
    std::vector<SkippedFile> skipped;
    if (isItkImageFile(path)) {
        Volume volume = loadVolume(path);
        Listed listed;
        listed.geometry = volume.geometry();
        listed.description = volume.info().description;
        listed.source = path;
        listed.warnings = volume.info().warnings;
        listed.images = 1;
        computeRange(volume, listed);
        listing.push_back(listed);
    } else {
        const DicomScanResult scan = scanDicom(path);
        skipped = scan.skipped;
        for (const auto& entry : scan.series) {
            Listed listed;
            listed.index = entry.index;
            listed.kind = toString(entry.kind);
            listed.seriesUid = entry.seriesUid;
            listed.modality = entry.modality;
            listed.description = entry.description;
            listed.patientPosition = entry.patientPosition;
            listed.transferSyntax = entry.transferSyntax;
            listed.geometry = entry.geometry;
            listed.warnings = entry.warnings;
            listed.error = entry.error;
            listed.images = static_cast<int>(entry.frames.size());
            listed.source = entry.frames.empty() ? std::string() : entry.frames.front().path;
            if (entry.kind == DicomSeriesKind::Projection && !entry.hasError() && !entry.frames.empty() &&
                isProjectionModality(entry.modality)) {
                try {
                    const ProjectionImage image = loadProjectionImage(entry.frames.front().path, false);
                    listed.projection = describeProjection(image);
                    for (const auto& warning : image.warnings)
                        listed.warnings.push_back(warning);
                } catch (const Error& error) {
                    listed.error = error.what();
                }
            }
            if ((entry.kind != DicomSeriesKind::Projection || entry.geometry.size[2] == 1) && !entry.hasError()) {
                try {
                    const Volume volume = loadDicomSeries(scan, entry.index);
                    computeRange(volume, listed);
                } catch (const Error& error) {
                    if (error.code() == ErrorCode::Cancelled)
                        throw;
                    listed.error = error.what();
                }
            }
            listing.push_back(listed);
        }
    }
    if (asJson) {
        json document;
        document["path"] = path;
        document["series"] = json::array();
        for (const auto& listed : listing)
            document["series"].push_back(toJson(listed));
        document["skipped"] = json::array();
        for (const auto& file : skipped)
            document["skipped"].push_back({{"path", file.path}, {"reason", file.reason}});
        // Paths from the file system need not be UTF-8; replace what is not rather than fail.
        std::cout << document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
        printText(listing, skipped);
    }
    // One file that holds nothing loadable is bad input, as for convert: say why in one line.
    std::error_code ec;
    if (!std::filesystem::is_directory(path, ec) && !listing.empty()) {
        bool allFailed = true;
        for (const auto& listed : listing)
            allFailed = allFailed && !listed.error.empty();
        if (allFailed) {
            const std::string& why = listing.front().error;
            std::cerr << "needleplan-cli: error: "
                      << (why.find(path) == std::string::npos ? path + ": " + why : why) << "\n";
            return ExitBadInput;
        }
    }
    return ExitSuccess;
}

const CommandRegistration registration{
    "info", "List every image series under a file, folder or DICOMDIR (and the files skipped)",
    [](CLI::App& command) -> std::function<int()> {
        auto path = std::make_shared<std::string>();
        auto asJson = std::make_shared<bool>(false);
        command.add_option("PATH", *path, "DICOM file, folder (searched recursively), DICOMDIR, or NRRD/NIfTI/MetaImage")
            ->required();
        command.add_flag("--json", *asJson, "machine-readable output (keys: series, skipped)");
        return [path, asJson] { return runInfo(*path, *asJson); };
    }};

} // namespace

} // namespace np::cli
