// The simulated model provider: the scripted model (core/agent/scripted_model.h) behind the
// faults a hosted LLM has — errors (overloaded, rate limited after the client's retries), slow
// streams, and malformed tool calls (an unknown tool, input of the wrong shape) beside the real
// ones. SimModel is the world's provider, with its faults and counts; each worker incarnation
// talks to it through a SimLlm on its own executor.
//
// A malformed call is the provider's, not the scripted model's: before the scripted model reads
// a conversation, the calls SimLlm made up and their results are taken out, so the plan goes on
// where it was.
#pragma once

#include <cstdint>

#include "runtime/executor.h"
#include "runtime/llm.h"
#include "runtime/random.h"
#include "sim/world.h"

namespace reliant::sim {

struct LlmFaults {
  double error = 0;      // per call: fails with `unavailable`
  double slow = 0;       // per call: the stream takes slow_min..slow_max longer
  double malformed = 0;  // per call that requests tools: one malformed call beside them
  Duration slow_min = seconds(1);
  Duration slow_max = seconds(20);
  bool any() const { return error > 0 || slow > 0 || malformed > 0; }
};

struct LlmStats {
  std::uint64_t calls = 0;
  std::uint64_t errors = 0;
  std::uint64_t slow = 0;
  std::uint64_t malformed = 0;
};

class SimModel {
 public:
  explicit SimModel(World& world) : random_(world.random().split("llm")) {}
  LlmFaults& faults() { return faults_; }
  const LlmStats& stats() const { return stats_; }

 private:
  friend class SimLlm;
  Random random_;
  LlmFaults faults_;
  LlmStats stats_;
};

class SimLlm final : public llm::Llm {
 public:
  SimLlm(SimModel& model, Executor& executor) : model_(model), executor_(executor) {}
  Task<Result<llm::Response>> complete(llm::Request request, llm::TextSink on_text) override;

 private:
  SimModel& model_;
  Executor& executor_;
};

}  // namespace reliant::sim
