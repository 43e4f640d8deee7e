// needleplan-cli report --plan plan.json --out report.pdf [--image PATH] [--dicom-dir DIR]

#include "CliCommand.h"
#include "needleplan/imaging/DicomDerivedObjects.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/planning/PlanDocument.h"
#include "needleplan/report/CaseReport.h"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <memory>

namespace np::cli {

namespace {

struct ReportArguments
{
    std::string plan;
    std::string out;
    std::string image;
    int series = -1;
    std::string dicomDir;
};

int runReport(const ReportArguments& arguments)
{
    const planning::Plan plan = planning::loadPlan(arguments.plan);
    const std::string imagePath = arguments.image.empty() ? plan.image.path : arguments.image;
    imaging::Volume ct;
    if (!imagePath.empty()) {
        imaging::LoadOptions load;
        load.seriesIndex = arguments.series;
        ct = imaging::loadVolume(imagePath, load);
        if (!plan.image.seriesUid.empty() && !ct.info().seriesUid.empty() &&
            ct.info().seriesUid != plan.image.seriesUid)
            throw Error(ErrorCode::InvalidArgument, imagePath + ": series " + ct.info().seriesUid +
                                                        " is not the plan's series " + plan.image.seriesUid);
    }
    if (!arguments.dicomDir.empty() && ct.empty())
        throw Error(ErrorCode::InvalidArgument, "--dicom-dir needs the plan's CT (give --image)");
    report::CaseReportContent content = report::caseReportContent(plan, ct.empty() ? nullptr : &ct);
    if (!ct.empty())
        content.notes.push_back("the 3D views show the CT's bone surface only (made without OpenGL); the "
                                "workstation's File > Report adds its 3D view with every structure");
    report::writeCaseReportPdf(content, arguments.out);
    std::cout << "wrote " << arguments.out << "\n";
    if (!arguments.dicomDir.empty()) {
        std::vector<std::string> warnings;
        for (const auto& path :
             report::writeCaseReportDicom(content, arguments.out, ct.info(), arguments.dicomDir, warnings))
            std::cout << "wrote " << path << "\n";
        for (const auto& warning : warnings)
            std::cerr << "needleplan-cli: warning: " << warning << "\n";
    }
    return ExitSuccess;
}

const CommandRegistration registration{
    "report", "PDF case report of a plan (patient, structures, trajectories, C-arm angles, pictures)",
    [](CLI::App& command) -> std::function<int()> {
        auto arguments = std::make_shared<ReportArguments>();
        command.add_option("--plan", arguments->plan, "plan file (plan.json)")->required();
        command.add_option("--out", arguments->out, "output PDF")->required();
        command.add_option("--image", arguments->image, "the plan's CT (default: the path in the plan)");
        command.add_option("--series", arguments->series, "series index from `info`")
            ->check(CLI::NonNegativeNumber);
        command.add_option("--dicom-dir", arguments->dicomDir,
                           "also write the report as DICOM Encapsulated PDF and the pictures as Secondary "
                           "Capture, in the CT's study, into this folder");
        return [arguments]() -> int { return runReport(*arguments); };
    }};

} // namespace

} // namespace np::cli
