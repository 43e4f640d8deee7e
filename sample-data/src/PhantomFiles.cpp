// Writing the phantom to disk (DICOM series, segmentation, targets catalogue) and reading targets.

#include "needleplan/imaging/AtomicFile.h"
#include "needleplan/imaging/DicomSeriesWriter.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/LabelMapIO.h"
#include "needleplan/imaging/ProgressRange.h"
#include "needleplan/phantom/LumbarPhantom.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace np::phantom {

namespace {

/// The string member `key` of `object`, "" when absent; throws CorruptData when not a string.
std::string stringMember(const nlohmann::json& object, const char* key, const std::string& path)
{
    const auto it = object.find(key);
    if (it == object.end() || it->is_null())
        return {};
    const auto* text = it->get_ptr<const std::string*>();
    if (text == nullptr)
        throw Error(ErrorCode::CorruptData, path + ": '" + key + "' must be a string");
    return *text;
}

} // namespace

void writeTargets(const std::vector<NamedTarget>& targets, const std::string& path)
{
    nlohmann::json document;
    document["schema"] = "needleplan.targets/1";
    document["coordinateSystem"] = "LPS";
    document["units"] = "mm";
    nlohmann::json list = nlohmann::json::array();
    for (const auto& t : targets)
        list.push_back({{"name", t.name},
                        {"positionLps", {t.positionLps.x, t.positionLps.y, t.positionLps.z}},
                        {"level", t.level},
                        {"side", t.side},
                        {"kind", t.kind},
                        {"description", t.description}});
    document["targets"] = list;
    imaging::writeFileAtomically(path, document.dump(2) + "\n");
}

std::vector<NamedTarget> readTargets(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error(ErrorCode::NotFound, path + ": targets file not found");
    nlohmann::json document;
    try {
        document = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorCode::CorruptData, path + ": not valid JSON: " + e.what());
    }
    std::vector<NamedTarget> targets;
    try {
        if (!document.is_object() || stringMember(document, "schema", path) != "needleplan.targets/1")
            throw Error(ErrorCode::CorruptData, path + ": not a needleplan.targets/1 document");
        const std::string system = stringMember(document, "coordinateSystem", path);
        if (!system.empty() && system != "LPS")
            throw Error(ErrorCode::Unsupported, path + ": only LPS target coordinates are supported");
        for (const auto& entry : document.at("targets")) {
            NamedTarget t;
            if (!entry.is_object())
                throw Error(ErrorCode::CorruptData, path + ": each target must be an object");
            t.name = stringMember(entry, "name", path);
            if (t.name.empty())
                throw Error(ErrorCode::CorruptData, path + ": a target has no name");
            const auto& p = entry.at("positionLps");
            if (!p.is_array() || p.size() != 3)
                throw Error(ErrorCode::CorruptData,
                            path + ": target '" + t.name + "' needs positionLps [x, y, z]");
            for (int a = 0; a < 3; ++a) {
                if (!p[static_cast<std::size_t>(a)].is_number())
                    throw Error(ErrorCode::CorruptData,
                                path + ": target '" + t.name + "' has a non-numeric position");
                t.positionLps[a] = p[static_cast<std::size_t>(a)].get<double>();
            }
            if (!std::isfinite(t.positionLps.x) || !std::isfinite(t.positionLps.y) ||
                !std::isfinite(t.positionLps.z))
                throw Error(ErrorCode::CorruptData,
                            path + ": target '" + t.name + "' has a non-finite position");
            t.level = stringMember(entry, "level", path);
            t.side = stringMember(entry, "side", path);
            t.kind = stringMember(entry, "kind", path);
            t.description = stringMember(entry, "description", path);
            targets.push_back(t);
        }
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorCode::CorruptData, path + ": malformed targets: " + e.what());
    }
    return targets;
}

void writePhantom(const Phantom& phantom, const std::string& folder, ProgressSink* progress)
{
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    if (!std::filesystem::is_directory(folder))
        throw Error(ErrorCode::Io, folder + ": cannot create the output folder");
    const std::filesystem::path root(folder);
    const std::filesystem::path dicom = root / "dicom";
    // Slices of a previous (possibly larger) phantom would mix into the new series: remove the
    // writer's own slice files, nothing else.
    if (std::filesystem::is_directory(dicom, ec))
        for (const auto& entry : std::filesystem::directory_iterator(dicom, ec)) {
            const std::string name = entry.path().filename().string();
            if (entry.is_regular_file() && name.rfind("slice_", 0) == 0 && entry.path().extension() == ".dcm")
                std::filesystem::remove(entry.path(), ec);
        }
    imaging::DicomWriteOptions options;
    options.modality = "CT";
    options.patientPosition =
        phantom.ct.info().patientPosition.empty() ? "HFP" : phantom.ct.info().patientPosition;
    options.patientName = "Phantom^Lumbar";
    options.patientId = "NP-PHANTOM";
    options.seriesDescription =
        phantom.ct.info().description.empty() ? "NeedlePlan lumbar phantom" : phantom.ct.info().description;
    ProgressRange dicomProgress(progress, 0.0, 0.8);
    imaging::writeDicomSeries(phantom.ct, dicom.string(), options, &dicomProgress);
    throwIfCancelled(progress);
    reportProgress(progress, 0.8, "Writing structures");
    imaging::writeSegNrrd(phantom.labels, (root / "structures.seg.nrrd").string());
    writeTargets(phantom.targets, (root / "targets.json").string());
    reportProgress(progress, 1.0, "Phantom written");
}

} // namespace np::phantom
