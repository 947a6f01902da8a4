#include "control/line_buffer.h"

namespace sipreg::control {

bool LineBuffer::feed(std::string_view bytes, std::vector<std::string>& out) {
    if (overflowed_) return false;
    while (!bytes.empty()) {
        const std::size_t nl = bytes.find('\n');
        const std::size_t take = nl == std::string_view::npos ? bytes.size() : nl;
        if (partial_.size() + take > maxLine_) {
            overflowed_ = true;
            partial_.clear();
            partial_.shrink_to_fit();
            return false;
        }
        partial_.append(bytes.substr(0, take));
        if (nl == std::string_view::npos) break;
        if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
        out.push_back(std::move(partial_));
        partial_.clear();
        bytes.remove_prefix(nl + 1);
    }
    return true;
}

}  // namespace sipreg::control
