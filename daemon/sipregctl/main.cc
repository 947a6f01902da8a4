// sipregctl: asks a running sipregd over its control socket (docs/control.md) what its
// lines are doing, and tells it to refresh, reload or trace.
//
// Exit codes: 0 done (check: every line registered); 1 sipregd refused the request (check:
// some line not registered; reload: configuration refused); 2 sipregd could not be
// reached, did not answer in time or answered nonsense, or the command line was wrong.
#include <iostream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "control/json_text.h"
#include "control/status_text.h"
#include "control_client.h"

namespace {

using nlohmann::json;
using sipreg::ctl::Clock;
using sipreg::ctl::ControlClient;

constexpr int kExitOk = 0;
constexpr int kExitRefused = 1;
constexpr int kExitUnreachable = 2;

struct Options {
    std::string socket = "/run/sipregd/control.sock";
    double timeout = 10.0;
    bool json = false;
};

struct Exchange {
    std::optional<ControlClient> client;
    json reply;
    std::string error;  // set when sipregd could not be reached or answered nonsense
};

Clock::time_point deadlineFrom(const Options& o) {
    return Clock::now() + std::chrono::milliseconds(static_cast<long long>(o.timeout * 1000.0));
}

Exchange ask(const Options& o, const json& request) {
    Exchange ex;
    const auto deadline = deadlineFrom(o);
    auto client = ControlClient::connect(o.socket, deadline);
    if (!client) {
        ex.error = client.error().message;
        return ex;
    }
    ex.client.emplace(std::move(*client));
    if (auto s = ex.client->send(sipreg::control::toLine(request), deadline); !s) {
        ex.error = s.error().message;
        return ex;
    }
    auto line = ex.client->readLine(deadline);
    if (!line) {
        ex.error = line.error().message;
        return ex;
    }
    ex.reply = json::parse(*line, nullptr, false);
    if (ex.reply.is_discarded() || !ex.reply.is_object() || !ex.reply.contains("ok") || !ex.reply["ok"].is_boolean()) {
        ex.error = "sipregd sent a reply that is not a control protocol object";
    }
    return ex;
}

bool replyOk(const json& reply) { return reply.is_object() && reply.value("ok", false); }

std::string replyError(const json& reply) {
    auto it = reply.find("error");
    return it != reply.end() && it->is_string() ? it->get<std::string>() : std::string("request refused");
}

int unreachable(const std::string& error) {
    if (error == ControlClient::kInterrupted) return kExitUnreachable;
    std::cerr << "sipregctl: cannot reach sipregd: " << error << '\n';
    return kExitUnreachable;
}

void printJson(const json& j) { std::cout << sipreg::control::toLine(j); }

// status, show, refresh: print the reply (table or JSON); 1 when sipregd refused.
int simple(const Options& o, const json& request, std::string (*render)(const json&)) {
    Exchange ex = ask(o, request);
    if (!ex.error.empty()) return unreachable(ex.error);
    if (o.json) {
        printJson(ex.reply);
        return replyOk(ex.reply) ? kExitOk : kExitRefused;
    }
    if (!replyOk(ex.reply)) {
        std::cerr << "sipregctl: " << replyError(ex.reply) << '\n';
        return kExitRefused;
    }
    std::cout << render(ex.reply);
    return kExitOk;
}

int runRefresh(const Options& o, const std::string& line, bool all) {
    json request{{"cmd", "refresh"}};
    if (all) {
        request["all"] = true;
    } else {
        request["line"] = line;
    }
    Exchange ex = ask(o, request);
    if (!ex.error.empty()) return unreachable(ex.error);
    if (o.json) {
        printJson(ex.reply);
    } else if (!replyOk(ex.reply)) {
        std::cerr << "sipregctl: " << replyError(ex.reply) << '\n';
    } else if (all) {
        auto n = ex.reply.find("refreshed");
        std::cout << "refresh started for " << (n != ex.reply.end() && n->is_number() ? n->dump() : "?")
                  << " line(s)\n";
    } else {
        std::cout << "refresh started for " << line << '\n';
    }
    return replyOk(ex.reply) ? kExitOk : kExitRefused;
}

int runReload(const Options& o) {
    Exchange ex = ask(o, json{{"cmd", "reload"}});
    if (!ex.error.empty()) return unreachable(ex.error);
    if (o.json) {
        printJson(ex.reply);
    } else if (replyOk(ex.reply)) {
        std::cout << sipreg::control::renderReload(ex.reply);
    } else {
        // The errors are the result of the command, not a failure of sipregctl: stdout.
        if (!ex.reply.contains("applied")) std::cerr << "sipregctl: " << replyError(ex.reply) << '\n';
        std::cout << sipreg::control::renderReload(ex.reply);
    }
    return replyOk(ex.reply) ? kExitOk : kExitRefused;
}

int runCheck(const Options& o) {
    Exchange ex = ask(o, json{{"cmd", "check"}});
    if (!ex.error.empty()) {
        std::cout << "CRITICAL: cannot reach sipregd: " << ex.error << '\n';
        return kExitUnreachable;
    }
    if (o.json) printJson(ex.reply);
    auto healthy = ex.reply.find("healthy");
    auto summary = ex.reply.find("summary");
    if (!replyOk(ex.reply) || healthy == ex.reply.end() || !healthy->is_boolean()) {
        if (!o.json) std::cout << "CRITICAL: sipregd answered: " << replyError(ex.reply) << '\n';
        return kExitUnreachable;
    }
    if (!o.json) std::cout << (summary != ex.reply.end() && summary->is_string() ? summary->get<std::string>() : "") << '\n';
    return healthy->get<bool>() ? kExitOk : kExitRefused;
}

int runTrace(const Options& o, const std::string& line) {
    json request{{"cmd", "trace"}, {"line", line.empty() ? json(nullptr) : json(line)}};
    Exchange ex = ask(o, request);
    if (!ex.error.empty()) return unreachable(ex.error);
    if (!replyOk(ex.reply)) {
        std::cerr << "sipregctl: " << replyError(ex.reply) << '\n';
        return kExitRefused;
    }
    std::cerr << "tracing " << (line.empty() ? std::string("every line") : "line " + line)
              << " (credentials redacted); Ctrl-C stops\n";
    while (true) {
        auto event = ex.client->readLine(std::nullopt);
        if (!event) {
            if (event.error().message == ControlClient::kInterrupted) return kExitOk;
            std::cerr << "sipregctl: " << event.error().message << '\n';
            return kExitUnreachable;
        }
        if (o.json) {
            std::cout << *event << std::endl;
            continue;
        }
        json parsed = json::parse(*event, nullptr, false);
        if (parsed.is_discarded()) continue;
        std::cout << sipreg::control::renderTrace(parsed) << std::flush;
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"sipregctl: status and control of a running sipregd"};
    Options o;
    app.add_option("-s,--socket", o.socket, "control socket of the daemon")->capture_default_str();
    app.add_option("-t,--timeout", o.timeout, "seconds to wait for each answer")
        ->check(CLI::Range(0.1, 3600.0))
        ->capture_default_str();
    app.set_version_flag("--version", std::string("sipregctl ") + SIPREGD_VERSION);
    app.require_subcommand(1);

    auto* status = app.add_subcommand("status", "every line: state, registrar, expiry, next action, last response");
    status->add_flag("--json", o.json, "the reply as JSON");
    auto* show = app.add_subcommand("show", "one line in detail, with its recent state changes");
    std::string line;
    show->add_option("LINE", line, "line id")->required();
    show->add_flag("--json", o.json, "the reply as JSON");
    auto* refresh = app.add_subcommand("refresh", "re-register a line (or every line) now");
    bool all = false;
    auto* refreshLine = refresh->add_option("LINE", line, "line id");
    auto* refreshAll = refresh->add_flag("--all", all, "every line");
    refreshLine->excludes(refreshAll);
    refresh->add_flag("--json", o.json, "the reply as JSON");
    auto* reload = app.add_subcommand("reload", "re-read the configuration (as SIGHUP) and print what changed");
    reload->add_flag("--json", o.json, "the reply as JSON");
    auto* check = app.add_subcommand("check", "exit 0 when every line is registered, 1 when not, 2 when unreachable");
    check->add_flag("--json", o.json, "the reply as JSON");
    auto* trace = app.add_subcommand("trace", "follow the SIP messages of one line (or all) live, redacted");
    trace->add_option("LINE", line, "line id (default: every line)");
    trace->add_flag("--json", o.json, "one JSON object per message");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? kExitOk : kExitUnreachable;
    }
    if (refresh->parsed() && line.empty() && !all) {
        std::cerr << "sipregctl: refresh needs a LINE or --all\n";
        return kExitUnreachable;
    }

    ControlClient::installSignalHandlers();
    try {
        if (status->parsed()) return simple(o, json{{"cmd", "status"}}, &sipreg::control::renderStatusTable);
        if (show->parsed()) return simple(o, json{{"cmd", "show"}, {"line", line}}, &sipreg::control::renderShow);
        if (refresh->parsed()) return runRefresh(o, line, all);
        if (reload->parsed()) return runReload(o);
        if (check->parsed()) return runCheck(o);
        if (trace->parsed()) return runTrace(o, line);
    } catch (const std::exception& e) {
        std::cerr << "sipregctl: " << e.what() << '\n';
        return kExitUnreachable;
    }
    return kExitUnreachable;
}
