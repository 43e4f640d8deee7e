// needleplan-cli validate: needles in post-insertion CTs against their plan, one case or a
// manifest of many (optionally one shard of it), with a CSV of errors and summary statistics.

#include "CliCommand.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/LabelMapIO.h"
#include "needleplan/planning/BodyModel.h"
#include "needleplan/planning/ClearanceField.h"
#include "needleplan/planning/PlanDocument.h"
#include "needleplan/planning/PostInsertionValidation.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

namespace np::cli {

namespace {

using nlohmann::json;
using namespace np::planning;
namespace fs = std::filesystem;

struct ValidateArguments
{
    std::string plan;
    std::string post;
    int series = -1;
    std::string planningCt;
    std::string structures;
    bool json = false;
    std::string csv;
    std::string manifest;
    std::string out;
    std::string shard;
};

std::string number(double value, int decimals = 3)
{
    if (!std::isfinite(value))
        return "";
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    return buffer;
}

std::string triple(const Vec3& v)
{
    return number(v.x) + " " + number(v.y) + " " + number(v.z);
}

json toJson(const Vec3& v)
{
    return json::array({v.x, v.y, v.z});
}

/// A path from a file (plan, manifest) relative to that file's folder unless absolute.
std::string besideFile(const std::string& path, const std::string& file)
{
    if (path.empty() || fs::path(path).is_absolute())
        return path;
    return (fs::path(file).parent_path() / path).lexically_normal().string();
}

/// The planning CT, its body and its structures' fields, kept across cases that share them.
struct PlanningScene
{
    std::string key;
    imaging::Volume ct;
    BodyModel body;
    imaging::LabelMap labels;
    std::vector<StructureSpec> structures;
    std::unique_ptr<ClearanceFieldSet> fields;
    std::vector<std::string> notes;
};

/// Structures of the plan on the label map: label values from the file's segments (by name),
/// classes and margins from the plan.
std::vector<StructureSpec> structuresFor(const Plan& plan, const imaging::LabelMap& labels,
                                         std::vector<std::string>& notes)
{
    if (plan.structures.empty())
        return defaultStructures(labels);
    std::vector<StructureSpec> specs;
    for (const StructureSpec& planned : plan.structures) {
        const imaging::Segment* segment = labels.findSegment(planned.name);
        if (!segment) {
            notes.push_back("structure \"" + planned.name + "\" of the plan is not in the label map");
            continue;
        }
        StructureSpec spec = planned;
        spec.labelValue = segment->labelValue;
        specs.push_back(spec);
    }
    return specs;
}

void loadScene(PlanningScene& scene, const Plan& plan, const std::string& planPath,
               const ValidateArguments& arguments)
{
    std::string ctPath =
        arguments.planningCt.empty() ? besideFile(plan.image.path, planPath) : arguments.planningCt;
    if (ctPath.empty())
        throw Error(ErrorCode::InvalidArgument,
                    planPath + ": the plan names no planning CT (give --planning-ct)");
    std::string structuresPath = arguments.structures;
    if (structuresPath.empty() && plan.image.structuresPath.find(';') == std::string::npos &&
        plan.image.structuresPath.find("automatic") == std::string::npos)
        structuresPath = besideFile(plan.image.structuresPath, planPath);
    const std::string key = ctPath + "\n" + structuresPath;
    if (scene.key == key)
        return;
    scene = PlanningScene{};
    scene.ct = imaging::loadVolume(ctPath);
    scene.body = BodyModel::fromCt(scene.ct);
    if (!structuresPath.empty() && fs::exists(structuresPath)) {
        scene.labels = imaging::readLabelMap(structuresPath);
        const auto& a = scene.labels.geometry();
        const auto& b = scene.ct.geometry();
        bool same = a.size == b.size && distance(a.spacing, b.spacing) < 1e-4 &&
                    distance(a.originLps, b.originLps) < 1e-3;
        for (std::size_t e = 0; same && e < 9; ++e)
            same = std::abs(a.directionLps.m[e] - b.directionLps.m[e]) < 1e-5;
        if (!same) {
            scene.notes.push_back(structuresPath +
                                  ": not on the planning CT's grid; the actual paths are not evaluated");
        } else {
            scene.structures = structuresFor(plan, scene.labels, scene.notes);
            scene.fields = std::make_unique<ClearanceFieldSet>(scene.labels);
            std::vector<Vec3> points;
            for (const Trajectory& t : plannedTrajectories(plan))
                points.push_back(t.entryLps), points.push_back(t.targetLps);
            if (!points.empty())
                scene.fields->prepareRegion(scene.structures, points, 30.0);
        }
    } else {
        scene.notes.push_back(
            "no structures (label map on the planning CT's grid) known: the actual paths are not "
            "evaluated, so no needle is called safe");
    }
    scene.key = key;
}

struct CaseOutcome
{
    ValidationResult result;
    std::vector<std::string> notes;
};

CaseOutcome runCase(const std::string& planPath, const std::string& postPath, int series,
                    const ValidateArguments& arguments, PlanningScene& scene)
{
    const Plan plan = loadPlan(planPath);
    loadScene(scene, plan, planPath, arguments);
    imaging::LoadOptions load;
    load.seriesIndex = series;
    const imaging::Volume post = imaging::loadVolume(postPath, load);
    ValidationOptions options;
    options.evaluation.patientPosition =
        parsePatientPosition(scene.ct.info().patientPosition).value_or(PatientPosition::HFS);
    options.evaluation.midlineXLps = scene.body.midlineXLps();
    std::unique_ptr<TrajectoryEvaluator> evaluator;
    if (scene.fields)
        evaluator = std::make_unique<TrajectoryEvaluator>(*scene.fields, scene.structures, &scene.body);
    CaseOutcome outcome;
    outcome.result = validatePostInsertion(plan, scene.ct, post, evaluator.get(), options);
    outcome.notes = scene.notes;
    return outcome;
}

// ---- CSV ---------------------------------------------------------------------------------------

const std::vector<std::string> kColumns{"case",
                                        "plan",
                                        "post",
                                        "status",
                                        "reason",
                                        "needle",
                                        "target",
                                        "tipErrorMm",
                                        "tipAlongMm",
                                        "tipAcrossMm",
                                        "entryErrorMm",
                                        "angleErrorDeg",
                                        "actualSafe",
                                        "tipLps",
                                        "entryLps",
                                        "registration",
                                        "registrationCorrelation"};

std::string csvField(const std::string& text)
{
    if (text.find_first_of(",\"\n\r") == std::string::npos)
        return text;
    std::string quoted = "\"";
    for (char c : text)
        quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}

std::string csvRow(const std::vector<std::string>& fields)
{
    std::string row;
    for (std::size_t i = 0; i < fields.size(); ++i)
        row += (i ? "," : "") + csvField(fields[i]);
    return row + "\n";
}

/// Parses CSV text (RFC 4180 quoting) into rows of fields.
std::vector<std::vector<std::string>> parseCsv(const std::string& text, const std::string& source)
{
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> row;
    std::string field;
    bool quoted = false, fieldStarted = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"')
                field += '"', ++i;
            else if (c == '"')
                quoted = false;
            else
                field += c;
        } else if (c == '"' && field.empty()) {
            quoted = fieldStarted = true;
        } else if (c == ',') {
            row.push_back(field), field.clear(), fieldStarted = true;
        } else if (c == '\n' || c == '\r') {
            if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')
                ++i;
            if (fieldStarted || !field.empty() || !row.empty()) {
                row.push_back(field);
                rows.push_back(row);
            }
            row.clear(), field.clear(), fieldStarted = false;
        } else {
            field += c, fieldStarted = true;
        }
    }
    if (quoted)
        throw Error(ErrorCode::CorruptData, source + ": a quoted field is not closed");
    if (fieldStarted || !field.empty() || !row.empty())
        row.push_back(field), rows.push_back(row);
    return rows;
}

std::vector<std::vector<std::string>> resultRows(const std::string& caseId, const std::string& plan,
                                                 const std::string& post, const ValidationResult& r)
{
    std::vector<std::vector<std::string>> rows;
    const std::string registration = r.registration.succeeded ? "registered" : "failed";
    const std::string correlation = number(r.registration.correlation);
    if (!r.completed) {
        rows.push_back({caseId, plan, post, "failed", r.failure, "", "", "", "", "", "", "", "", "", "",
                        registration, correlation});
        return rows;
    }
    for (std::size_t i = 0; i < r.needles.size(); ++i) {
        const ValidatedNeedle& n = r.needles[i];
        if (!n.measurement) {
            rows.push_back({caseId, plan, post, "unmatched", n.match.reason, std::to_string(i + 1), "", "",
                            "", "", "", "", "", triple(n.tipLps), triple(n.entryLps), registration,
                            correlation});
            continue;
        }
        const NeedleMeasurement& m = *n.measurement;
        rows.push_back(
            {caseId, plan, post, "ok", m.actualSafe ? "" : m.summary.front(), std::to_string(i + 1), n.target,
             number(m.errors.tipErrorMm), number(m.errors.tipAlongMm), number(m.errors.tipAcrossMm),
             number(m.errors.entryErrorMm), number(m.errors.angleErrorDeg), m.actualSafe ? "true" : "false",
             triple(n.tipLps), triple(n.entryLps), registration, correlation});
    }
    return rows;
}

// ---- Summary statistics ------------------------------------------------------------------------

struct Statistics
{
    std::size_t count = 0;
    double mean = 0, sd = 0, median = 0, p95 = 0, worst = 0;
};

/// Mean, sample SD, median and 95th percentile (linear interpolation between order statistics),
/// and the worst value (largest magnitude, with its sign).
Statistics statistics(std::vector<double> values)
{
    Statistics s;
    s.count = values.size();
    if (values.empty())
        return s;
    double sum = 0;
    for (double v : values)
        sum += v;
    s.mean = sum / static_cast<double>(values.size());
    double squares = 0;
    for (double v : values)
        squares += (v - s.mean) * (v - s.mean);
    s.sd = values.size() > 1 ? std::sqrt(squares / static_cast<double>(values.size() - 1)) : 0.0;
    s.worst = *std::max_element(values.begin(), values.end(),
                                [](double a, double b) { return std::abs(a) < std::abs(b); });
    std::sort(values.begin(), values.end());
    const auto quantile = [&values](double q) {
        const double position = q * static_cast<double>(values.size() - 1);
        const auto lower = static_cast<std::size_t>(std::floor(position));
        const std::size_t upper = std::min(lower + 1, values.size() - 1);
        return values[lower] + (values[upper] - values[lower]) * (position - static_cast<double>(lower));
    };
    s.median = quantile(0.5);
    s.p95 = quantile(0.95);
    return s;
}

const std::vector<std::string> kMetrics{"tipErrorMm", "tipAlongMm", "tipAcrossMm", "entryErrorMm",
                                        "angleErrorDeg"};

json summaryJson(const std::vector<std::vector<std::string>>& rows, std::size_t cases, std::ostream& print)
{
    json summary;
    std::size_t failed = 0, measured = 0, unmatched = 0, unsafe = 0;
    std::vector<std::vector<double>> values(kMetrics.size());
    for (const auto& row : rows) {
        if (row[3] == "failed")
            ++failed;
        else if (row[3] == "unmatched")
            ++unmatched;
        else {
            ++measured;
            if (row[12] != "true")
                ++unsafe;
            for (std::size_t m = 0; m < kMetrics.size(); ++m)
                values[m].push_back(std::stod(row[7 + m]));
        }
    }
    summary["schema"] = "needleplan.validation-summary/1";
    summary["cases"] = cases;
    summary["failedCases"] = failed;
    summary["needlesMeasured"] = measured;
    summary["needlesUnmatched"] = unmatched;
    summary["actualPathsNotSafe"] = unsafe;
    print << "cases " << cases << ", failed " << failed << ", needles measured " << measured << ", unmatched "
          << unmatched << ", actual paths not safe " << unsafe << "\n";
    print << "metric            n      mean        SD    median      95th     worst\n";
    for (std::size_t m = 0; m < kMetrics.size(); ++m) {
        const Statistics s = statistics(values[m]);
        json entry{{"n", s.count}};
        if (s.count > 0)
            entry.update(
                {{"mean", s.mean}, {"sd", s.sd}, {"median", s.median}, {"p95", s.p95}, {"worst", s.worst}});
        summary["metrics"][kMetrics[m]] = entry;
        char line[160];
        std::snprintf(line, sizeof line, "%-14s %4zu %9.3f %9.3f %9.3f %9.3f %9.3f\n", kMetrics[m].c_str(),
                      s.count, s.mean, s.sd, s.median, s.p95, s.worst);
        print << line;
    }
    return summary;
}

// ---- Single case -------------------------------------------------------------------------------

void printCase(const ValidationResult& r, std::ostream& out)
{
    out << "Registration: " << r.registration.verdict << "\n";
    if (!r.completed) {
        out << "Not measured: " << r.failure << "\n";
        return;
    }
    out << "needle  target                              tip mm  along mm  across mm  entry mm  angle deg  "
           "actual path\n";
    for (std::size_t i = 0; i < r.needles.size(); ++i) {
        const ValidatedNeedle& n = r.needles[i];
        char line[400];
        if (!n.measurement) {
            std::snprintf(line, sizeof line, "%6zu  %-34s  unmatched: %s\n", i + 1, "-",
                          n.match.reason.c_str());
        } else {
            const NeedleMeasurement& m = *n.measurement;
            const std::string verdict =
                m.actualEvaluation ? (m.actualSafe ? "safe" : "UNSAFE") : "not checked";
            std::snprintf(line, sizeof line, "%6zu  %-34.34s %7.2f %9.2f %10.2f %9.2f %10.2f  %s\n", i + 1,
                          n.target.c_str(), m.errors.tipErrorMm, m.errors.tipAlongMm, m.errors.tipAcrossMm,
                          m.errors.entryErrorMm, m.errors.angleErrorDeg, verdict.c_str());
        }
        out << line;
        if (n.measurement)
            for (const std::string& s : n.measurement->summary)
                out << "        " << s << "\n";
    }
}

json caseJson(const ValidationResult& r)
{
    json j;
    j["schema"] = "needleplan.validation/1";
    j["coordinateSystem"] = "LPS";
    json reg;
    reg["succeeded"] = r.registration.succeeded;
    reg["verdict"] = r.registration.verdict;
    reg["correlation"] = r.registration.correlation;
    reg["correlationBefore"] = r.registration.correlationBefore;
    reg["planningFromPost"] = {{"rotation", r.registration.planningFromPost.rotation.m},
                               {"translationMm", toJson(r.registration.planningFromPost.translationMm)}};
    j["registration"] = reg;
    j["completed"] = r.completed;
    if (!r.completed)
        j["reason"] = r.failure;
    j["needles"] = json::array();
    for (const ValidatedNeedle& n : r.needles) {
        json needle;
        needle["matched"] = n.measurement.has_value();
        needle["target"] = n.target;
        needle["tipLps"] = toJson(n.tipLps);
        needle["entryLps"] = toJson(n.entryLps);
        needle["tipPostLps"] = toJson(n.detected.tipLps);
        needle["entryPostLps"] = toJson(n.detected.entryLps);
        if (n.measurement) {
            const NeedleMeasurement& m = *n.measurement;
            needle["tipErrorMm"] = m.errors.tipErrorMm;
            needle["tipAlongMm"] = m.errors.tipAlongMm;
            needle["tipAcrossMm"] = m.errors.tipAcrossMm;
            needle["entryErrorMm"] = m.errors.entryErrorMm;
            needle["angleErrorDeg"] = m.errors.angleErrorDeg;
            needle["actualSafe"] = m.actualSafe;
            needle["checked"] = m.actualEvaluation.has_value();
            needle["summary"] = m.summary;
            if (m.actualEvaluation)
                needle["actual"] = evaluationToJson(m.actual, *m.actualEvaluation);
            if (m.activeTip)
                needle["activeTip"] = {{"maxDistanceMm", m.activeTip->maxDistanceMm},
                                       {"angleDeg", m.activeTip->angleDeg},
                                       {"withinTolerance", m.activeTip->withinTolerance}};
        } else {
            needle["reason"] = n.match.reason;
        }
        j["needles"].push_back(needle);
    }
    j["warnings"] = r.warnings;
    return j;
}

int runSingle(const ValidateArguments& arguments)
{
    if (arguments.plan.empty() || arguments.post.empty())
        throw Error(ErrorCode::InvalidArgument, "validate needs --plan and --post (or --manifest and --out)");
    PlanningScene scene;
    const CaseOutcome outcome = runCase(arguments.plan, arguments.post, arguments.series, arguments, scene);
    std::ostream& info = arguments.json ? std::cerr : std::cout;
    for (const auto& note : outcome.notes)
        std::cerr << "needleplan-cli: note: " << note << "\n";
    for (const auto& warning : outcome.result.warnings)
        std::cerr << "needleplan-cli: warning: " << warning << "\n";
    printCase(outcome.result, info);
    if (!arguments.csv.empty()) {
        std::string text = csvRow(kColumns);
        for (const auto& row : resultRows("1", arguments.plan, arguments.post, outcome.result))
            text += csvRow(row);
        writeFileAtomically(arguments.csv, text);
    }
    if (arguments.json)
        std::cout << caseJson(outcome.result).dump(2) << "\n";
    return outcome.result.completed ? ExitSuccess : ExitNoSafePath;
}

// ---- Manifest ----------------------------------------------------------------------------------

std::pair<int, int> parseShard(const std::string& text)
{
    const auto slash = text.find('/');
    int index = 0, count = 0;
    char extra = 0;
    if (slash == std::string::npos || std::sscanf(text.c_str(), "%d/%d%c", &index, &count, &extra) != 2 ||
        count < 1 || index < 1 || index > count)
        throw Error(ErrorCode::InvalidArgument, "--shard '" + text + "' must be I/N with 1 <= I <= N");
    return {index, count};
}

int runManifest(const ValidateArguments& arguments)
{
    if (arguments.out.empty())
        throw Error(ErrorCode::InvalidArgument, "validate --manifest needs --out results.csv");
    std::ifstream in(arguments.manifest, std::ios::binary);
    if (!in)
        throw Error(ErrorCode::NotFound, arguments.manifest + ": cannot open the manifest");
    std::stringstream buffer;
    buffer << in.rdbuf();
    const auto rows = parseCsv(buffer.str(), arguments.manifest);
    if (rows.empty())
        throw Error(ErrorCode::CorruptData,
                    arguments.manifest + ": empty manifest (expected the header plan,post)");
    const auto& header = rows.front();
    const bool hasSeries = header.size() == 3 && header[2] == "series";
    if (header.size() < 2 || header[0] != "plan" || header[1] != "post" ||
        (header.size() == 3 && !hasSeries) || header.size() > 3)
        throw Error(ErrorCode::CorruptData,
                    arguments.manifest + ": the header must be plan,post or plan,post,series");
    const std::size_t cases = rows.size() - 1;
    auto [shardIndex, shardCount] =
        arguments.shard.empty() ? std::pair<int, int>{1, 1} : parseShard(arguments.shard);
    // Contiguous blocks, so the shards' CSVs concatenated in order give one run's rows.
    const std::size_t first =
        cases * static_cast<std::size_t>(shardIndex - 1) / static_cast<std::size_t>(shardCount);
    const std::size_t last =
        cases * static_cast<std::size_t>(shardIndex) / static_cast<std::size_t>(shardCount);

    std::string text = shardIndex == 1 ? csvRow(kColumns) : std::string();
    std::vector<std::vector<std::string>> allRows;
    PlanningScene scene;
    for (std::size_t c = first; c < last; ++c) {
        const auto& row = rows[c + 1];
        const std::string caseId = std::to_string(c + 1);
        const std::string plan = row.size() > 0 ? row[0] : "", post = row.size() > 1 ? row[1] : "";
        std::vector<std::vector<std::string>> caseRows;
        try {
            if (row.size() != header.size())
                throw Error(ErrorCode::CorruptData, "line " + std::to_string(c + 2) + " has " +
                                                        std::to_string(row.size()) + " fields, the header " +
                                                        std::to_string(header.size()));
            int series = -1;
            if (hasSeries && !row[2].empty()) {
                std::size_t used = 0;
                try {
                    series = std::stoi(row[2], &used);
                } catch (const std::exception&) {
                    used = 0;
                }
                if (used != row[2].size() || series < 0)
                    throw Error(ErrorCode::InvalidArgument, "series '" + row[2] + "' is not a series index");
            }
            std::cerr << "case " << caseId << " of " << cases << ": " << plan << " | " << post << "\n";
            const CaseOutcome outcome =
                runCase(besideFile(plan, arguments.manifest), besideFile(post, arguments.manifest), series,
                        arguments, scene);
            caseRows = resultRows(caseId, plan, post, outcome.result);
        } catch (const Error& e) {
            if (e.code() == ErrorCode::Cancelled)
                throw;
            caseRows = {
                {caseId, plan, post, "failed", e.what(), "", "", "", "", "", "", "", "", "", "", "", ""}};
        } catch (const std::exception& e) {
            caseRows = {{caseId, plan, post, "failed", std::string("internal error: ") + e.what(), "", "", "",
                         "", "", "", "", "", "", "", "", ""}};
        }
        for (const auto& r : caseRows) {
            if (r[3] == "failed")
                std::cerr << "case " << caseId << " failed: " << r[4] << "\n";
            text += csvRow(r);
            allRows.push_back(r);
        }
    }
    writeFileAtomically(arguments.out, text);
    const json summary = summaryJson(allRows, last - first, std::cout);
    fs::path summaryPath(arguments.out);
    summaryPath.replace_extension(".summary.json");
    json withShard = summary;
    withShard["shard"] = {
        {"index", shardIndex}, {"count", shardCount}, {"firstCase", first + 1}, {"lastCase", last}};
    writeFileAtomically(summaryPath.string(), withShard.dump(2) + "\n");
    std::cout << "wrote " << arguments.out << " and " << summaryPath.string() << "\n";
    return ExitSuccess;
}

const CommandRegistration validateRegistration{
    "validate", "measure needles in post-insertion CTs against their plan (one case or a manifest)",
    [](CLI::App& command) {
        auto arguments = std::make_shared<ValidateArguments>();
        command.add_option("--plan", arguments->plan, "plan file (needleplan.plan/1)");
        command.add_option("--post", arguments->post, "post-insertion CT: DICOM file/folder, NRRD, NIfTI");
        command.add_option("--series", arguments->series, "series index when --post holds several");
        command.add_option("--planning-ct", arguments->planningCt,
                           "planning CT (default: the plan's image path)");
        command.add_option("--structures", arguments->structures,
                           "label map on the planning CT's grid (default: the plan's structures file)");
        command.add_flag("--json", arguments->json, "print the result as JSON to stdout");
        command.add_option("--csv", arguments->csv, "also write the rows as CSV");
        command.add_option("--manifest", arguments->manifest, "CSV of cases: header plan,post[,series]");
        command.add_option("--out", arguments->out, "results CSV of --manifest (summary JSON beside it)");
        command.add_option("--shard", arguments->shard,
                           "I/N: run only the I-th of N contiguous blocks of cases");
        return [arguments] {
            if (!arguments->manifest.empty()) {
                if (!arguments->plan.empty() || !arguments->post.empty())
                    throw Error(ErrorCode::InvalidArgument,
                                "give either --manifest or --plan/--post, not both");
                return runManifest(*arguments);
            }
            if (!arguments->shard.empty() || !arguments->out.empty())
                throw Error(ErrorCode::InvalidArgument, "--shard and --out belong to --manifest");
            return runSingle(*arguments);
        };
    }};

} // namespace

} // namespace np::cli
