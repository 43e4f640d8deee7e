// needleplan-cli report --plan plan.json --out report.pdf [--image PATH] [--dicom-dir DIR]

#include "CliCommand.h"
#include "needleplan/imaging/DicomDerivedObjects.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/planning/PlanDocument.h"
#include "needleplan/report/CaseReport.h"

#include <CLI/CLI.hpp>
#include <ctime>
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

std::string nowUtc()
{
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &utc);
    return text;
}

int runReport(const ReportArguments& arguments)
{
    report::CaseReportContent content;
    content.plan = planning::loadPlan(arguments.plan);
    content.generatedAtUtc = nowUtc();
    const std::string imagePath = arguments.image.empty() ? content.plan.image.path : arguments.image;
    imaging::Volume ct;
    if (imagePath.empty()) {
        content.notes.push_back("the plan names no image: no patient data and no pictures");
    } else {
        imaging::LoadOptions load;
        load.seriesIndex = arguments.series;
        ct = imaging::loadVolume(imagePath, load);
        if (!content.plan.image.seriesUid.empty() && !ct.info().seriesUid.empty() &&
            ct.info().seriesUid != content.plan.image.seriesUid)
            throw Error(ErrorCode::InvalidArgument, imagePath + ": series " + ct.info().seriesUid +
                                                        " is not the plan's series " +
                                                        content.plan.image.seriesUid);
        content.patient = imaging::readPatientStudy(ct.info());
        content.seriesDescription = ct.info().description;
        content.modality = ct.info().modality;
        for (const auto& target : content.plan.targets) {
            std::vector<report::ReportPicture> pictures;
            const planning::PlannedTrajectory* chosen = nullptr;
            for (const auto& p : target.trajectories)
                if (!chosen || p.rank < chosen->rank)
                    chosen = &p;
            if (chosen)
                pictures.push_back(report::alongNeedlePicture(
                    ct, chosen->trajectory,
                    target.name + ": CT along the needle (rank " + std::to_string(chosen->rank) +
                        "), entry left, target (red) right; window 400/40 HU"));
            content.picturesByTarget.push_back(std::move(pictures));
        }
        content.notes.push_back("the 3D view is not included in reports made by the command line (it needs "
                                "an OpenGL display)");
    }
    report::writeCaseReportPdf(content, arguments.out);
    std::cout << "wrote " << arguments.out << "\n";
    if (!arguments.dicomDir.empty()) {
        if (ct.empty())
            throw Error(ErrorCode::InvalidArgument, "--dicom-dir needs the plan's CT (give --image)");
        std::filesystem::create_directories(arguments.dicomDir);
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
