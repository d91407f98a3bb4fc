//===- IRDumper.cpp - write the IR after import and every pass ------------===//
//
// Owned by the compiler (cc).
//
//===----------------------------------------------------------------------===//
#include "llmc/Compiler/IRDumper.h"

#include "mlir/Pass/Pass.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>

namespace llmc {

Status makeDirectories(const std::string &dir) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return InvalidArgument(dir + ": cannot create directory: " + ec.message());
  return Status::Ok();
}

Status dumpModule(mlir::ModuleOp module, const std::string &dir, const std::string &name) {
  std::string path = dir + "/" + name;
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return InvalidArgument(path + ": cannot write: " + ec.message());
  module.print(os);
  return Status::Ok();
}

namespace {

// Prints after every pass into its own numbered file.
class FileDumpConfig final : public mlir::PassManager::IRPrinterConfig {
 public:
  FileDumpConfig(std::string dir, int firstIndex)
      : IRPrinterConfig(/*printModuleScope=*/true), dir_(std::move(dir)), next_(firstIndex) {}

  void printBeforeIfEnabled(mlir::Pass *, mlir::Operation *, PrintCallbackFn) override {}
  void printAfterIfEnabled(mlir::Pass *pass, mlir::Operation *, PrintCallbackFn print) override {
    char num[16];
    std::snprintf(num, sizeof(num), "%02d-", next_++);
    std::string arg = pass->getArgument().str();
    if (arg.empty())
      arg = pass->getName().str();
    std::error_code ec;
    llvm::raw_fd_ostream os(dir_ + "/" + num + arg + ".mlir", ec);
    if (!ec)  // a dump that cannot be written must not fail the build
      print(os);
  }

 private:
  std::string dir_;
  int next_;
};

}  // namespace

void enableIRDumps(mlir::PassManager &pm, const std::string &dir, int firstIndex) {
  pm.enableIRPrinting(std::make_unique<FileDumpConfig>(dir, firstIndex));
}

}  // namespace llmc
