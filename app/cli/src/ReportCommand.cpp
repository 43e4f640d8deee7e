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
        content.notes.push_back("the 3D view is not included in reports made by the command line (it needs "
                                "an OpenGL display); the workstation's File > Report includes it");
    report::writeCaseReportPdf(content, arguments.out);
    std::cout << "wrote " << arguments.out << "\n";
    if (!arguments.dicomDir.empty()) {
        std::error_code folderError;
        std::filesystem::create_directories(arguments.dicomDir, folderError);
        if (folderError)
            throw Error(ErrorCode::Io,
                        arguments.dicomDir + ": cannot create the folder (" + folderError.message() + ")");
        imaging::DerivedObjectOptions options;
        options.seriesDescription = "NeedlePlan case report";
        const std::string pdfObject = (std::filesystem::path(arguments.dicomDir) / "report.dcm").string();
        for (const auto& warning : imaging::writeEncapsulatedPdf(arguments.out, "NeedlePlan case report",
                                                                 ct.info(), pdfObject, options))
            std::cerr << "needleplan-cli: warning: " << warning << "\n";
        std::cout << "wrote " << pdfObject << "\n";
        imaging::DerivedObjectOptions pictureOptions;
        pictureOptions.seriesDescription = "NeedlePlan pictures";
        pictureOptions.seriesNumber = 902;
        pictureOptions.seriesUid = imaging::newSeriesInstanceUid(); // one series for all pictures
        int instance = 0;
        for (const auto& pictures : content.picturesByTarget)
            for (const auto& picture : pictures) {
                pictureOptions.instanceNumber = ++instance;
                imaging::RgbPicture rgb{picture.width, picture.height, picture.rgb};
                const std::string path = (std::filesystem::path(arguments.dicomDir) /
                                          ("picture_" + std::to_string(instance) + ".dcm"))
                                             .string();
                for (const auto& warning :
                     imaging::writeSecondaryCapture(rgb, picture.caption, ct.info(), path, pictureOptions))
                    std::cerr << "needleplan-cli: warning: " << warning << "\n";
                std::cout << "wrote " << path << "\n";
            }
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
