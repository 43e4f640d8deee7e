// needleplan-cli pacs echo|find|get|store: DICOM networking with a PACS (C-ECHO, C-FIND, C-GET or
// C-MOVE, C-STORE). Every subcommand takes --host --port --aet --called-aet and the timeouts.

#include "CliCommand.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/PacsClient.h"
#include "needleplan/imaging/Progress.h"

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

namespace np::cli {

namespace {

using nlohmann::json;
using namespace np::imaging;

std::atomic<bool> g_interrupted{false};

extern "C" void onInterrupt(int)
{
    g_interrupted = true;
}

/// Ctrl-C cancels a transfer cleanly (association aborted, exit code 3) instead of killing it.
class InterruptCancel : public ProgressSink
{
public:
    InterruptCancel()
    {
        g_interrupted = false;
        m_previous = std::signal(SIGINT, onInterrupt);
    }
    ~InterruptCancel() override { std::signal(SIGINT, m_previous); }
    InterruptCancel(const InterruptCancel&) = delete;
    InterruptCancel& operator=(const InterruptCancel&) = delete;

    bool cancelRequested() const override { return g_interrupted; }

private:
    void (*m_previous)(int) = SIG_DFL;
};

/// Adds --host --port --aet --called-aet --connect-timeout --dimse-timeout to a subcommand.
void addConnectionOptions(CLI::App& command, PacsSettings& settings)
{
    command.add_option("--host", settings.host, "PACS host name or IP address")->capture_default_str();
    command.add_option("--port", settings.port, "PACS DICOM port")
        ->capture_default_str()
        ->check(CLI::Range(1, 65535));
    command.add_option("--aet", settings.callingAeTitle, "our (calling) AE title")->capture_default_str();
    command.add_option("--called-aet", settings.calledAeTitle, "the PACS's (called) AE title")
        ->capture_default_str();
    command
        .add_option("--connect-timeout", settings.connectTimeoutSeconds,
                    "seconds to wait for the connection and the association")
        ->capture_default_str()
        ->check(CLI::Range(1, 3600));
    command
        .add_option("--dimse-timeout", settings.dimseTimeoutSeconds,
                    "seconds to wait for each answer of the PACS")
        ->capture_default_str()
        ->check(CLI::Range(1, 3600));
}

json nullable(const std::string& text)
{
    return text.empty() ? json(nullptr) : json(text);
}

json toJson(const PacsMatch& match)
{
    return json{
        {"level", toString(match.level)},
        {"patientId", match.patientId},
        {"patientName", match.patientName},
        {"studyInstanceUid", nullable(match.studyInstanceUid)},
        {"seriesInstanceUid", nullable(match.seriesInstanceUid)},
        {"modality", nullable(match.modality)},
        {"studyDate", nullable(match.studyDate)},
        {"studyDescription", nullable(match.studyDescription)},
        {"seriesDescription", nullable(match.seriesDescription)},
        {"seriesNumber", nullable(match.seriesNumber)},
        {"numberOfInstances", match.numberOfInstances < 0 ? json(nullptr) : json(match.numberOfInstances)}};
}

void printMatches(const std::vector<PacsMatch>& matches, PacsLevel level)
{
    if (matches.empty()) {
        std::cout << "no matches\n";
        return;
    }
    for (const auto& match : matches) {
        std::cout << match.patientId << "  " << match.patientName;
        if (level != PacsLevel::Patient)
            std::cout << "  study " << match.studyInstanceUid << "  " << match.studyDate;
        if (level == PacsLevel::Series)
            std::cout << "  series " << match.seriesInstanceUid << " #" << match.seriesNumber;
        if (!match.modality.empty())
            std::cout << "  " << match.modality;
        const std::string& description =
            level == PacsLevel::Series ? match.seriesDescription : match.studyDescription;
        if (!description.empty())
            std::cout << "  \"" << description << "\"";
        if (match.numberOfInstances >= 0)
            std::cout << "  " << match.numberOfInstances << " instances";
        std::cout << "\n";
    }
    std::cout << matches.size() << (matches.size() == 1 ? " match\n" : " matches\n");
}

const CommandRegistration registration{
    "pacs", "Talk to a PACS: echo, find (patient/study/series), get (C-GET or C-MOVE) and store",
    [](CLI::App& command) -> std::function<int()> {
        command.require_subcommand(1);
        auto settings = std::make_shared<PacsSettings>();

        CLI::App* echo = command.add_subcommand("echo", "C-ECHO: check that the PACS answers");
        addConnectionOptions(*echo, *settings);

        CLI::App* find = command.add_subcommand("find", "C-FIND: list patients, studies or series");
        addConnectionOptions(*find, *settings);
        auto levelText = std::make_shared<std::string>("study");
        auto query = std::make_shared<PacsQuery>();
        auto asJson = std::make_shared<bool>(false);
        find->add_option("--level", *levelText, "patient, study or series")
            ->capture_default_str()
            ->check(CLI::IsMember({"patient", "study", "series"}, CLI::ignore_case));
        find->add_option("--patient-id", query->patientId, "Patient ID");
        find->add_option("--patient-name", query->patientName, "Patient's name; * and ? are wildcards");
        find->add_option("--study-uid", query->studyInstanceUid, "Study Instance UID");
        find->add_option("--series-uid", query->seriesInstanceUid, "Series Instance UID (series level)");
        find->add_option("--modality", query->modality, "modality, e.g. CT (study or series level)");
        find->add_option("--study-date", query->studyDate, "YYYYMMDD or a range YYYYMMDD-YYYYMMDD");
        find->add_flag("--json", *asJson,
                       "machine-readable list of matches (patientId, patientName, studyInstanceUid, "
                       "seriesInstanceUid, modality, studyDate, numberOfInstances)");

        CLI::App* get = command.add_subcommand("get", "C-GET (or C-MOVE) a study or series into a folder");
        addConnectionOptions(*get, *settings);
        auto request = std::make_shared<PacsRetrieveRequest>();
        auto out = std::make_shared<std::string>();
        get->add_option("--study-uid", request->studyInstanceUid, "Study Instance UID")->required();
        get->add_option("--series-uid", request->seriesInstanceUid,
                        "Series Instance UID (default: whole study)");
        auto* destination =
            get->add_option("--move-destination", request->moveDestinationAeTitle,
                            "use C-MOVE to this AE title (the PACS must know it as this machine "
                            "and --listen-port); without it, C-GET");
        auto* listen = get->add_option("--listen-port", request->listenPort,
                                       "port of NeedlePlan's storage SCP for C-MOVE")
                           ->check(CLI::Range(1, 65535));
        destination->needs(listen);
        listen->needs(destination);
        get->add_option("--out", *out, "folder for the received files (created when missing)")->required();

        CLI::App* store = command.add_subcommand("store", "C-STORE DICOM files and folders (recursively)");
        addConnectionOptions(*store, *settings);
        auto paths = std::make_shared<std::vector<std::string>>();
        store->add_option("PATHS", *paths, "DICOM files or folders")->required();

        return [=]() -> int {
            const PacsClient client(*settings);
            const std::string server = describeServer(*settings);
            if (echo->parsed()) {
                client.echo();
                std::cout << "C-ECHO " << server << ": success\n";
                return ExitSuccess;
            }
            if (find->parsed()) {
                query->level = pacsLevelFromString(*levelText);
                const auto matches = client.find(*query);
                if (*asJson) {
                    json list = json::array();
                    for (const auto& match : matches)
                        list.push_back(toJson(match));
                    std::cout << list.dump(2) << "\n";
                } else {
                    printMatches(matches, query->level);
                }
                return ExitSuccess;
            }
            if (get->parsed()) {
                request->outputFolder = *out;
                InterruptCancel cancel;
                const PacsRetrieveResult result = client.retrieve(*request, &cancel);
                std::cout << (request->moveDestinationAeTitle.empty() ? "C-GET" : "C-MOVE") << " " << server
                          << ": received " << result.files.size() << " instances into " << *out;
                if (result.warnings > 0)
                    std::cout << " (" << result.warnings << " with a warning)";
                std::cout << "\n";
                return ExitSuccess;
            }
            std::vector<std::filesystem::path> inputs(paths->begin(), paths->end());
            InterruptCancel cancel;
            const PacsStoreResult result = client.store(inputs, &cancel);
            for (const auto& skipped : result.skipped)
                std::cerr << "needleplan-cli: skipped " << skipped << "\n";
            std::cout << "C-STORE " << server << ": sent " << result.sent << " instances";
            if (result.warnings > 0)
                std::cout << " (" << result.warnings << " with a warning)";
            if (!result.skipped.empty())
                std::cout << ", skipped " << result.skipped.size() << " files";
            std::cout << "\n";
            return ExitSuccess;
        };
    }};

} // namespace

} // namespace np::cli
