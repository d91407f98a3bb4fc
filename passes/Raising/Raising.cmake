# passes/Raising (owner: onnx): the raising passes of the ONNX pipeline and their helpers,
# compiled into LLMCPasses. Included from passes/CMakeLists.txt.
target_sources(LLMCPasses PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/EvalTensor.cpp
  ${CMAKE_CURRENT_LIST_DIR}/GenericEval.cpp
  ${CMAKE_CURRENT_LIST_DIR}/RaisingUtils.cpp
  ${CMAKE_CURRENT_LIST_DIR}/RaiseEmbedding.cpp
  ${CMAKE_CURRENT_LIST_DIR}/RaiseLinear.cpp
  ${CMAKE_CURRENT_LIST_DIR}/RaiseRMSNorm.cpp
  ${CMAKE_CURRENT_LIST_DIR}/RaiseEmbeddingScale.cpp
  ${CMAKE_CURRENT_LIST_DIR}/RaisePositionEmbedding.cpp
  ${CMAKE_CURRENT_LIST_DIR}/RaiseLayerNorm.cpp
  ${CMAKE_CURRENT_LIST_DIR}/RaiseSplit.cpp
  ${CMAKE_CURRENT_LIST_DIR}/RaiseGelu.cpp
  ${CMAKE_CURRENT_LIST_DIR}/RaiseGlu.cpp
  ${CMAKE_CURRENT_LIST_DIR}/RaiseSdpa.cpp
  ${CMAKE_CURRENT_LIST_DIR}/RaiseRope.cpp
  ${CMAKE_CURRENT_LIST_DIR}/RaiseAttention.cpp
  ${CMAKE_CURRENT_LIST_DIR}/RaiseElementwise.cpp
  ${CMAKE_CURRENT_LIST_DIR}/RaiseLastToken.cpp
  ${CMAKE_CURRENT_LIST_DIR}/CollapseViews.cpp
  ${CMAKE_CURRENT_LIST_DIR}/CheckRaised.cpp
  ${CMAKE_CURRENT_LIST_DIR}/RaisingPipeline.cpp
)
