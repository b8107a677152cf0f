// Requests to the provider of the catalogue model they name (see the header).
#include "services/agent/catalog_llm.h"

#include "base/assert.h"

namespace reliant::agent {

CatalogLlm::CatalogLlm(std::shared_ptr<const ModelCatalog> catalog,
                       std::map<std::string, std::unique_ptr<llm::Llm>, std::less<>> providers)
    : catalog_(std::move(catalog)), providers_(std::move(providers)) {
  RELIANT_ASSERT(catalog_ != nullptr);
  for (const auto& model : catalog_->models) RELIANT_ASSERT(providers_.contains(model.provider));
}

Task<Result<llm::Response>> CatalogLlm::complete(llm::Request request, llm::TextSink on_text) {
  const ModelSpec* model =
      catalog_->model(request.model.empty() ? catalog_->default_model : request.model);
  if (model == nullptr) {
    co_return fail(ErrorCode::invalid_argument,
                   "model \"" + request.model + "\" is not in the model catalogue");
  }
  llm::Llm& provider = *providers_.find(model->provider)->second;
  request.model = model->api_model;
  Task<Result<llm::Response>> calling = provider.complete(std::move(request), std::move(on_text));
  co_return co_await calling;
}

}  // namespace reliant::agent
