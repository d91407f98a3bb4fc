# StaticLLVM.cmake - link MLIR against LLVM's static component libraries instead of libLLVM.so.
#
# Debian builds LLVM with LLVM_LINK_LLVM_DYLIB, so every imported MLIR target depends on the 130 MB
# libLLVM.so. Binaries carried to a machine without LLVM (the GPU machine) cannot use it: with
# LLMC_STATIC_RUNTIME we point those dependencies at the static LLVMSupport/LLVMDemangle archives
# (all the IR, parser and pass infrastructure llmc uses needs), and link with --as-needed so the
# optional system libraries LLVMSupport names (z3) are only recorded when really used.
add_library(llmc_llvm_static INTERFACE)
target_link_libraries(llmc_llvm_static INTERFACE LLVMSupport LLVMDemangle)
foreach(target ${MLIR_EXPORTED_TARGETS})
  if(TARGET ${target})
    get_target_property(libs ${target} INTERFACE_LINK_LIBRARIES)
    if(libs)
      list(TRANSFORM libs REPLACE "^LLVM$" "llmc_llvm_static")
      set_target_properties(${target} PROPERTIES INTERFACE_LINK_LIBRARIES "${libs}")
    endif()
  endif()
endforeach()
add_link_options(-Wl,--as-needed)
