// CatalogLlm: the model a process with a model catalogue (core/agent/model_catalog.h) talks to —
// one Llm per provider behind one port. A request names a catalogue model; it goes to that
// model's provider under the provider's own name for it (api_model).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/agent/model_catalog.h"
#include "runtime/llm.h"

namespace reliant::agent {

class CatalogLlm final : public llm::Llm {
 public:
  // `providers`: an Llm for each of the catalogue's providers, by name.
  CatalogLlm(std::shared_ptr<const ModelCatalog> catalog,
             std::map<std::string, std::unique_ptr<llm::Llm>, std::less<>> providers);

  // Fails with invalid_argument for a model the catalogue does not list.
  Task<Result<llm::Response>> complete(llm::Request request, llm::TextSink on_text) override;

 private:
  std::shared_ptr<const ModelCatalog> catalog_;
  std::map<std::string, std::unique_ptr<llm::Llm>, std::less<>> providers_;
};

}  // namespace reliant::agent
