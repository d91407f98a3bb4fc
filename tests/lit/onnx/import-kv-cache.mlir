// KV-cache exports: past_key_values.* inputs are bound to an empty past, so Concat(past, k) is k
// (no llm.concat; also when the past is wrapped in a one-input Concat or an Identity) and an
// opset-23 Attention's present outputs are its K and V; the present.* outputs are dropped and
// @forward returns the other output. Every rule that makes this exact is checked, each failure
// one line naming the file and the input or output.
// RUN: %python %S/Inputs/make_onnx_kv.py ok %t.ok.onnx
// RUN: llmc-import-onnx %t.ok.onnx | FileCheck %s
// RUN: %python %S/Inputs/make_onnx_kv.py alias %t.alias.onnx
// RUN: llmc-import-onnx %t.alias.onnx | FileCheck %s
// RUN: %python %S/Inputs/make_onnx_kv.py attn_past %t.attn.onnx
// RUN: llmc-import-onnx %t.attn.onnx | FileCheck %s

// CHECK-LABEL: func.func @forward(%arg0: tensor<?xi32>) -> tensor<1x2x?x4xf32>
// CHECK-NOT: llm.concat
// CHECK: %[[K:.*]] = llm.transpose %{{.*}} {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x4xf32> -> tensor<1x2x?x4xf32>
// CHECK-NEXT: %[[V:.*]] = llm.unary "neg" %[[K]]
// CHECK-NEXT: %[[Y:.*]] = llm.sdpa %[[K]], %[[K]], %[[V]] {is_causal = true
// CHECK-NEXT: return %[[Y]] : tensor<1x2x?x4xf32>

// RUN: %python %S/Inputs/make_onnx_kv.py no_role %t.no_role.onnx
// RUN: not llmc-import-onnx %t.no_role.onnx 2>&1 | FileCheck %s --check-prefix=NOROLE
// NOROLE: error: {{.*}}.no_role.onnx: graph input 'past_key_values.0' is ambiguous: its name does not say whether it holds keys or values (name it past_key_values.N.key / past_key_values.N.value){{$}}

// RUN: %python %S/Inputs/make_onnx_kv.py not_past_name %t.name.onnx
// RUN: not llmc-import-onnx %t.name.onnx 2>&1 | FileCheck %s --check-prefix=NAME
// NAME: error: {{.*}}.name.onnx: graph input 'cache.0.key' is a rank-4 float tensor whose name does not say it is a KV-cache input (name it past_key_values.N.key / past_key_values.N.value){{$}}

// RUN: %python %S/Inputs/make_onnx_kv.py static_past %t.static.onnx
// RUN: not llmc-import-onnx %t.static.onnx 2>&1 | FileCheck %s --check-prefix=STATIC
// STATIC: error: {{.*}}.static.onnx: graph input 'past_key_values.0.key' has a static past length 3; export with a dynamic past axis{{$}}

// RUN: %python %S/Inputs/make_onnx_kv.py read_by_other %t.other.onnx
// RUN: not llmc-import-onnx %t.other.onnx 2>&1 | FileCheck %s --check-prefix=OTHER
// OTHER: error: {{.*}}.other.onnx: KV-cache input 'past_key_values.0.key' is read by node 'neg_past' (Neg input 0); llmc maps the cache only through Concat(past, new) along the past axis or Attention's past_key/past_value{{$}}

// The new keys before the past: not what the cache holds.
// RUN: %python %S/Inputs/make_onnx_kv.py reversed %t.rev.onnx
// RUN: not llmc-import-onnx %t.rev.onnx 2>&1 | FileCheck %s --check-prefix=REV
// REV: error: {{.*}}.rev.onnx: KV-cache input 'past_key_values.0.key' is read by node 'cat_k' (Concat input 1);

// The attention reads the new keys, not the present: the present is not the attention's cache.
// RUN: %python %S/Inputs/make_onnx_kv.py unread %t.unread.onnx
// RUN: not llmc-import-onnx %t.unread.onnx 2>&1 | FileCheck %s --check-prefix=UNREAD
// UNREAD: error: {{.*}}.unread.onnx: present output 'present.0.key' (Concat of 'past_key_values.0.key' and 'k') is not read by the graph's attention, so it is not what the runtime's KV cache holds{{$}}

// RUN: %python %S/Inputs/make_onnx_kv.py not_returned %t.noret.onnx
// RUN: not llmc-import-onnx %t.noret.onnx 2>&1 | FileCheck %s --check-prefix=NORET
// NORET: error: {{.*}}.noret.onnx: KV-cache input 'past_key_values.0.key' is not concatenated into a present output (Concat(past, new) along the past axis, returned by the graph){{$}}

// RUN: %python %S/Inputs/make_onnx_kv.py extra_output %t.extra.onnx
// RUN: not llmc-import-onnx %t.extra.onnx 2>&1 | FileCheck %s --check-prefix=EXTRA
// EXTRA: error: {{.*}}.extra.onnx: the graph has 2 outputs besides present.* KV-cache outputs; llmc expects one (the logits){{$}}

// A sliding-window cache keeps the last 3 positions (tail Slices of the past and of the
// presents, dropped): exact under the graph's window of 4, refused when it keeps fewer than
// window - 1 positions or the attention has no window.
// RUN: %python %S/Inputs/make_onnx_kv.py window %t.window.onnx
// RUN: llmc-import-onnx %t.window.onnx | FileCheck %s --check-prefix=WINDOW
// WINDOW-NOT: llm.slice
// WINDOW: %[[K:.*]] = llm.transpose
// WINDOW-NEXT: %[[V:.*]] = llm.unary "neg" %[[K]]
// WINDOW-NEXT: %[[M:.*]] = llm.causal_mask {sliding_window = 4 : i64}
// WINDOW-NEXT: %[[Y:.*]] = llm.sdpa %[[K]], %[[K]], %[[V]], %[[M]]
// WINDOW-NEXT: return %[[Y]]

// RUN: %python %S/Inputs/make_onnx_kv.py window_too_wide %t.wide.onnx
// RUN: not llmc-import-onnx %t.wide.onnx 2>&1 | FileCheck %s --check-prefix=WIDE
// WIDE: error: {{.*}}.wide.onnx: the KV cache keeps only the last 2 positions, which is exact only under a sliding window of at most 3 tokens, but the graph's attention has a sliding window of 4{{$}}

// RUN: %python %S/Inputs/make_onnx_kv.py crop_no_mask %t.nomask.onnx
// RUN: not llmc-import-onnx %t.nomask.onnx 2>&1 | FileCheck %s --check-prefix=NOMASK
// NOMASK: error: {{.*}}.nomask.onnx: the KV cache keeps only the last 3 positions, which is exact only under a sliding window of at most 4 tokens, but the graph's attention has no mask (is_causal){{$}}
