// The report as DICOM Encapsulated PDF and a picture as Secondary Capture, in a real CT's study:
// dicom3tools' dciodvfy reports no error, the patient and study are the CT's, the PDF comes back
// byte for byte.

#include "needleplan/imaging/DicomDerivedObjects.h"

#include "TestSupport.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <fstream>
#include <gtest/gtest.h>

namespace np::imaging {
namespace {

std::string attribute(const std::string& path, const DcmTagKey& tag)
{
    DcmFileFormat file;
    OFString value;
    if (file.loadFile(path.c_str()).bad() || file.getDataset()->findAndGetOFStringArray(tag, value).bad())
        return {};
    return value.c_str();
}

// A PDF of one empty page, written by hand (odd length on purpose: the DICOM value is padded).
const std::string kPdf = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
                         "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
                         "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
                         "trailer<</Root 1 0 R>>\n%%EOF\n";

TEST(DicomDerivedObjects, EncapsulatedPdfAndSecondaryCaptureInTheCtsStudyPassDciodvfy)
{
    NP_REQUIRE_REALDICOM();
    const Volume ct = loadVolume((np::test::realDicomDir() / "06_seg_ct_liver" / "ct").string());
    np::test::TempDir dir;
    const std::string pdf = (dir.path() / "report.pdf").string();
    std::ofstream(pdf, std::ios::binary) << kPdf;
    const std::string pdfObject = (dir.path() / "report.dcm").string();
    EXPECT_TRUE(writeEncapsulatedPdf(pdf, "Case report", ct.info(), pdfObject).empty());

    RgbPicture picture;
    picture.width = 33; // odd: 33 * 3 * 7 bytes is odd, the DICOM value is padded
    picture.height = 7;
    for (int n = 0; n < picture.width * picture.height; ++n)
        picture.rgb.insert(picture.rgb.end(), {static_cast<std::uint8_t>(n), 128, 255});
    const std::string pictureObject = (dir.path() / "picture.dcm").string();
    EXPECT_TRUE(writeSecondaryCapture(picture, "along the needle", ct.info(), pictureObject).empty());

    for (const std::string& path : {pdfObject, pictureObject}) {
        SCOPED_TRACE(path);
        for (const DcmTagKey& tag : {DCM_PatientName, DCM_PatientID, DCM_StudyInstanceUID, DCM_StudyDate})
            EXPECT_EQ(attribute(path, tag), attribute(ct.info().sourceDicomFile, tag))
                << DcmTag(tag).getTagName();
        EXPECT_NE(attribute(path, DCM_SeriesInstanceUID), ct.info().seriesUid);
    }
    EXPECT_EQ(attribute(pdfObject, DCM_SOPClassUID), "1.2.840.10008.5.1.4.1.1.104.1");
    EXPECT_EQ(attribute(pictureObject, DCM_SOPClassUID), "1.2.840.10008.5.1.4.1.1.7");

    DcmFileFormat file;
    ASSERT_TRUE(file.loadFile(pdfObject.c_str()).good());
    const Uint8* bytes = nullptr;
    unsigned long length = 0;
    ASSERT_TRUE(file.getDataset()->findAndGetUint8Array(DCM_EncapsulatedDocument, bytes, &length).good());
    Uint32 documentLength = 0;
    file.getDataset()->findAndGetUint32(DCM_EncapsulatedDocumentLength, documentLength);
    ASSERT_EQ(documentLength, kPdf.size());
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes), documentLength), kPdf);

    for (const std::string& path : {pdfObject, pictureObject}) {
        const auto verdict = np::test::runDciodvfy(path);
        NP_SKIP_UNLESS_DCIODVFY_RAN(verdict);
        EXPECT_EQ(verdict.errorCount, 0) << path << "\n" << verdict.errors;
    }
}

TEST(DicomDerivedObjects, BadInputsFailCleanly)
{
    np::test::TempDir dir;
    const VolumeInfo none;
    try {
        writeEncapsulatedPdf((dir.path() / "missing.pdf").string(), "x", none,
                             (dir.path() / "a.dcm").string());
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::NotFound);
    }
    std::ofstream(dir.path() / "text.pdf") << "hello";
    try {
        writeEncapsulatedPdf((dir.path() / "text.pdf").string(), "x", none, (dir.path() / "b.dcm").string());
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::CorruptData);
    }
    RgbPicture wrong;
    wrong.width = 4;
    wrong.height = 4;
    wrong.rgb.resize(10);
    EXPECT_THROW(writeSecondaryCapture(wrong, "x", none, (dir.path() / "c.dcm").string()), Error);
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "c.dcm"));
}

} // namespace
} // namespace np::imaging
