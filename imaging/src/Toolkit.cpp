#include "needleplan/imaging/Toolkit.h"

#include <itkDataObject.h>
#include <itkFloatingPointExceptions.h>
#include <itkMersenneTwisterRandomVariateGenerator.h>
#include <itkMetaImageIO.h>
#include <itkMultiThreaderBase.h>
#include <itkObject.h>
#include <itkObjectFactoryBase.h>
#include <itkOutputWindow.h>
#include <itkThreadPool.h>
#include <itkTimeStamp.h>

namespace np::imaging {

void prepareToolkitForThreads()
{
    // Every ITK 5.2 global is created on first use and registered in one process-wide map
    // (itk::SingletonIndex) without a lock: two threads creating their first globals at once corrupt
    // that map. Each call below creates one of the globals ITK's filters, readers and writers use.
    // A function-local static is initialised once, and other callers wait for it (C++11).
    static const bool prepared = [] {
        itk::ObjectFactoryBase::GetRegisteredFactories(); // the factory list (ObjectFactoryBase::Initialize)
        itk::TimeStamp stamp;
        stamp.Modified();                                  // the global modification counter
        itk::DataObject::GetGlobalReleaseDataFlag();
        itk::Object::GetGlobalWarningDisplay();
        itk::OutputWindow::GetInstance();
        itk::MultiThreaderBase::GetGlobalDefaultNumberOfThreads();
        itk::MultiThreaderBase::GetGlobalDefaultThreader();
        itk::MultiThreaderBase::Pointer threader = itk::MultiThreaderBase::New();
        itk::ThreadPool::GetInstance();
        itk::Statistics::MersenneTwisterRandomVariateGenerator::GetInstance();
        itk::MetaImageIO::GetDefaultDoublePrecision();
        itk::FloatingPointExceptions::GetExceptionAction();
        return threader.IsNotNull();
    }();
    (void)prepared;
}

} // namespace np::imaging
