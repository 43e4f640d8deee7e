#include "needleplan/planning/TargetCatalogue.h"

#include "needleplan/imaging/Error.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace np::planning {

using nlohmann::json;

std::vector<TargetRequest> parseTargetCatalogue(const std::string& jsonText, const std::string& source)
{
    json root;
    try {
        root = json::parse(jsonText);
    } catch (const json::exception& e) {
        throw Error(ErrorCode::CorruptData, source + ": not valid JSON (" + e.what() + ")");
    }
    if (!root.is_object() || !root.contains("targets") || !root["targets"].is_array())
        throw Error(ErrorCode::CorruptData, source + ": expected {\"targets\": [...]}");
    if (root.contains("coordinateSystem") && root["coordinateSystem"] != "LPS")
        throw Error(ErrorCode::CorruptData, source + ": only LPS target catalogues are supported");
    std::vector<TargetRequest> targets;
    std::size_t index = 0;
    for (const json& t : root["targets"]) {
        const std::string which = "target " + std::to_string(index++);
        if (!t.is_object() || !t.contains("name") || !t["name"].is_string() || !t.contains("positionLps") ||
            !t["positionLps"].is_array() || t["positionLps"].size() != 3)
            throw Error(ErrorCode::CorruptData,
                        source + ": " + which + ": each target needs a name and positionLps [x, y, z]");
        const std::string name = t["name"].get<std::string>();
        Vec3 p;
        for (int a = 0; a < 3; ++a) {
            const json& value = t["positionLps"][static_cast<std::size_t>(a)];
            if (!value.is_number() || !std::isfinite(value.get<double>()))
                throw Error(ErrorCode::CorruptData,
                            source + ": target \"" + name + "\": positionLps must hold three finite numbers");
            p[a] = value.get<double>();
        }
        targets.push_back({name, p});
    }
    return targets;
}

std::vector<TargetRequest> readTargetCatalogue(const std::string& path)
{
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    std::ifstream in(path, std::ios::binary);
    if (!in || ec)
        throw Error(ErrorCode::NotFound, path + ": targets file not found");
    if (size > kMaxTargetCatalogueBytes)
        throw Error(ErrorCode::TooLarge,
                    path + ": targets file of " + std::to_string(size >> 20) + " MiB, more than the " +
                        std::to_string(kMaxTargetCatalogueBytes >> 20) + " MiB a catalogue may have");
    std::ostringstream text;
    text << in.rdbuf();
    return parseTargetCatalogue(text.str(), path);
}

} // namespace np::planning
