#include "completion_gen.hpp"

#include <algorithm>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>

namespace centrali::cli::completion {
namespace {

using json = nlohmann::json;

// ---------------------------------------------------------------------------
// The tree
// ---------------------------------------------------------------------------

std::string first_line(const std::string& text)
{
  return text.substr(0, text.find('\n'));
}

std::vector<std::string> split_words(const std::string& text)
{
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool hidden(const CLI::App& app)
{
  return app.get_group().empty();
}

bool hidden(const CLI::Option& opt)
{
  return opt.get_group().empty();
}

// CLI11 appends each validator's description to the type name
// ("TEXT:{a,b}", "INT:INT in [1 - 1024]"). It cannot say how many
// validators an option has, so read them by index until it says no more.
std::vector<std::string> validator_descriptions(CLI::Option& opt)
{
  std::vector<std::string> out;
  for (int i = 0;; ++i) {
    try {
      out.push_back(opt.get_validator(i)->get_description());
    } catch (const CLI::OptionNotFound&) {
      break;
    }
  }
  return out;
}

std::string base_type_name(CLI::Option& opt, const std::vector<std::string>& validators)
{
  std::string name = opt.get_type_name();
  for (auto it = validators.rbegin(); it != validators.rend(); ++it) {
    std::string suffix = ":" + *it;
    if (!it->empty() && name.size() > suffix.size() && name.ends_with(suffix)) name.resize(name.size() - suffix.size());
  }
  return name;
}

// An IsMember description is "{a,b,c}".
std::vector<std::string> member_choices(const std::vector<std::string>& validators)
{
  for (const auto& d : validators) {
    if (d.size() < 3 || d.front() != '{' || d.back() != '}') continue;
    std::vector<std::string> out;
    std::string inner = d.substr(1, d.size() - 2);
    std::size_t start = 0;
    while (start <= inner.size()) {
      auto comma = inner.find(',', start);
      if (comma == std::string::npos) comma = inner.size();
      if (comma > start) out.push_back(inner.substr(start, comma - start));
      start = comma + 1;
    }
    return out;
  }
  return {};
}

// A type name such as "output|envelope" lists literal words; upper-case
// ones ("DURATION|TIME") are placeholders, not choices.
std::vector<std::string> type_name_choices(const std::string& type_name)
{
  if (type_name.find('|') == std::string::npos) return {};
  for (char c : type_name)
    if (!(std::islower(static_cast<unsigned char>(c)) || c == '|' || c == '-' || c == '_')) return {};
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= type_name.size()) {
    auto bar = type_name.find('|', start);
    if (bar == std::string::npos) bar = type_name.size();
    if (bar > start) out.push_back(type_name.substr(start, bar - start));
    start = bar + 1;
  }
  return out;
}

// Which store listing names the value of `arg` (a flag or a positional's
// name) of the command at `path`. Inferred from names, not listed per
// command, so a new verb on an existing noun (`webhooks pause ID`) gets
// its completion without anyone touching this file.
std::string store_kind_for(const std::string& path, const std::string& arg)
{
  static const std::map<std::string, std::string> by_flag = {
      {"--source", "sources"}, {"--webhook", "webhooks"}, {"--event", "events"}, {"--trigger", "triggers"}};
  if (arg.starts_with("-")) {
    auto it = by_flag.find(arg);
    return it == by_flag.end() ? "" : it->second;
  }
  auto words = split_words(path);
  if (words.empty()) return "";
  const auto& noun = words.front();
  const auto& verb = words.back();
  if (arg == "delivery") return "deliveries";
  // Arguments of add/create name something new.
  if (verb == "add" || verb == "create") return "";
  if (arg != "id" && arg != "ids" && arg != "name") return "";
  // Trigger commands take trigger names; their `id`s are runs.
  if (noun == "triggers") return arg == "id" ? "runs" : "triggers";
  // Automation commands take automation names; their `id`s are runs of automations.
  if (noun == "automations") return arg == "id" ? "automation-runs" : "automations";
  for (const char* kind : {"sources", "webhooks", "deliveries", "events"})
    if (noun == kind) return noun;
  return "";
}

ValueSpec value_for(CLI::Option& opt, const std::string& path, const std::string& arg, std::string& type_name)
{
  auto validators = validator_descriptions(opt);
  type_name = base_type_name(opt, validators);
  ValueSpec v;
  v.kind = ValueKind::text;
  v.choices = member_choices(validators);
  if (v.choices.empty()) v.choices = type_name_choices(type_name);
  if (!v.choices.empty()) {
    v.kind = ValueKind::choices;
    return v;
  }
  // A positional called "file" (`events import FILE`) is a path too. A
  // LOCATION (`store copy --to`) is a file or a URL: the shell can offer files.
  if (type_name == "PATH" || type_name == "PATH|URL" || type_name == "FILE" || type_name == "LOCATION" || arg == "file")
    v.kind = ValueKind::file;
  else if (type_name == "DIR") v.kind = ValueKind::dir;
  else if (auto kind = store_kind_for(path, arg); !kind.empty()) {
    v.kind = ValueKind::dynamic;
    v.store_kind = kind;
  }
  return v;
}

FlagSpec flag_spec(CLI::Option& opt, const std::string& path)
{
  FlagSpec f;
  for (const auto& s : opt.get_snames()) f.names.push_back("-" + s);
  for (const auto& l : opt.get_lnames()) f.names.push_back("--" + l);
  f.help = first_line(opt.get_description());
  f.default_value = opt.get_default_str();
  if (opt.get_expected_max() == 0) return f;  // a flag: no value
  std::string long_name = f.names.empty() ? "" : f.names.back();
  f.value = value_for(opt, path, long_name, f.type_name);
  return f;
}

void walk(CLI::App& app, const std::string& path, Tree& tree, bool top)
{
  CommandSpec cmd;
  cmd.path = path;
  cmd.help = first_line(app.get_description());
  for (auto* opt : app.get_options()) {
    if (hidden(*opt)) continue;
    if (opt->get_positional()) {
      PositionalSpec p;
      p.name = opt->get_name();
      p.help = first_line(opt->get_description());
      p.many = opt->get_items_expected_max() > 1;
      p.required = opt->get_required();
      std::string type_name;
      p.value = value_for(*opt, path, p.name, type_name);
      cmd.positionals.push_back(std::move(p));
      continue;
    }
    auto flag = flag_spec(*opt, path);
    // Top-level options other than --help/--version fall through to every
    // subcommand (see main.cpp): they are the globals.
    bool own = opt == app.get_help_ptr() || opt->check_lname("version");
    if (top && !own) tree.globals.push_back(std::move(flag));
    else cmd.flags.push_back(std::move(flag));
  }
  auto subs = app.get_subcommands(std::function<bool(CLI::App*)>{});
  for (auto* sub : subs) {
    if (hidden(*sub)) continue;
    cmd.children.push_back(sub->get_name());
    cmd.child_help.push_back(first_line(sub->get_description()));
  }
  tree.commands.push_back(std::move(cmd));
  for (auto* sub : subs)
    if (!hidden(*sub)) walk(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), tree, false);
}

// ---------------------------------------------------------------------------
// Quoting and shared tables
// ---------------------------------------------------------------------------

// POSIX single quotes (bash and zsh read them the same way).
std::string sh_quote(const std::string& s)
{
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// fish single quotes escape only \ and '.
std::string fish_quote(const std::string& s)
{
  std::string out = "'";
  for (char c : s) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string join(const std::vector<std::string>& items, const std::string& sep = " ")
{
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

// The value of a flag or positional as bash and zsh tables spell it:
// choice words, @file, @dir, @dyn:KIND, or @text; empty for no value.
std::string value_form(const ValueSpec& v)
{
  switch (v.kind) {
  case ValueKind::none: return "";
  case ValueKind::text: return "@text";
  case ValueKind::choices: return join(v.choices);
  case ValueKind::file: return "@file";
  case ValueKind::dir: return "@dir";
  case ValueKind::dynamic: return "@dyn:" + v.store_kind;
  }
  return "";
}

std::vector<std::string> flag_names(const std::vector<FlagSpec>& flags)
{
  std::vector<std::string> out;
  for (const auto& f : flags)
    for (const auto& n : f.names) out.push_back(n);
  return out;
}

// `case` arms shared by bash and zsh: (pattern, words to print).
struct Arm {
  std::string pattern;
  std::string value;
};

std::vector<Arm> flag_value_arms(const Tree& tree)
{
  std::vector<Arm> arms;
  for (const auto& g : tree.globals)
    if (g.value.kind != ValueKind::none)
      for (const auto& n : g.names) arms.push_back({"*:" + sh_quote(n), value_form(g.value)});
  for (const auto& c : tree.commands)
    for (const auto& f : c.flags)
      if (f.value.kind != ValueKind::none)
        for (const auto& n : f.names) arms.push_back({sh_quote(c.path + ":" + n), value_form(f.value)});
  return arms;
}

std::vector<Arm> positional_arms(const Tree& tree)
{
  std::vector<Arm> arms;
  for (const auto& c : tree.commands)
    for (std::size_t i = 0; i < c.positionals.size(); ++i) {
      const auto& p = c.positionals[i];
      auto form = value_form(p.value);
      if (form == "@text") continue;
      if (p.many) arms.push_back({sh_quote(c.path + ":") + "*", form});
      else arms.push_back({sh_quote(c.path + ":" + std::to_string(i)), form});
    }
  // A `many` positional's catch-all pattern must come after its path's
  // numbered ones.
  std::stable_partition(arms.begin(), arms.end(), [](const Arm& a) { return !a.pattern.ends_with("*"); });
  return arms;
}

// ---------------------------------------------------------------------------
// bash
// ---------------------------------------------------------------------------

constexpr const char* k_bash_head = R"(# bash completion for centrali(1)                         -*- shell-script -*-
# Generated by `centrali completion bash` from the command tree; do not edit.
# Regenerate: centrali completion bash > completions/centrali.bash
# Install: copy to /usr/share/bash-completion/completions/centrali (or
# ~/.local/share/bash-completion/completions/centrali), or in ~/.bashrc:
#   source <(centrali completion bash)
)";

constexpr const char* k_bash_body = R"BASH(
# What follows a value word: @file and @dir ask for the shell's own path
# completion; @dyn:KIND asks the binary for names from the store (silently
# nothing when there is no store); anything else is a list of choices.
_centrali_values() {
    local form=$1 bin=$2 store=$3 line
    local -a args
    case $form in
        '' | @text) ;;
        @file | @dir) printf '%s\n' "$form" ;;
        @dyn:*)
            args=(__complete "${form#@dyn:}")
            [[ -n $store ]] && args=(--store "$store" "${args[@]}")
            while IFS= read -r line; do
                printf '%s\n' "${line%%$'\t'*}"
            done < <("${bin/#\~/$HOME}" "${args[@]}" 2>/dev/null)
            ;;
        *) printf '%s\n' $form ;;
    esac
}

# Prints every candidate for the last of "$@" (the words up to the cursor,
# program first), one per line and unfiltered. No completion builtins, so
# it runs under plain `bash -c` too (the tests call it that way).
_centrali_candidates() {
    local -a cwords=("$@")
    local last=$((${#cwords[@]} - 1)) cmdpath='' npos=0 store='' want='' word i
    for ((i = 1; i < last; i++)); do
        word=${cwords[i]}
        if [[ -n $want ]]; then
            [[ $word == = ]] && continue # --flag=value split at '=' (COMP_WORDBREAKS)
            [[ $want == --store ]] && store=$word
            want=''
            continue
        fi
        case $word in
            --store=*) store=${word#--store=}; continue ;;
            --*=*) continue ;;
            -*) [[ -n $(_centrali_flag_value "$cmdpath" "$word") ]] && want=$word; continue ;;
        esac
        if [[ " $(_centrali_commands "$cmdpath") " == *" $word "* ]]; then
            cmdpath=${cmdpath:+$cmdpath }$word
            npos=0
        else
            npos=$((npos + 1))
        fi
    done
    if [[ -n $want ]]; then
        _centrali_values "$(_centrali_flag_value "$cmdpath" "$want")" "${cwords[0]}" "$store"
    elif [[ ${cwords[last]} == -* ]]; then
        for word in $(_centrali_flags "$cmdpath"); do printf '%s\n' "$word"; done
    else
        if ((npos == 0)); then
            for word in $(_centrali_commands "$cmdpath"); do printf '%s\n' "$word"; done
        fi
        _centrali_values "$(_centrali_positional "$cmdpath" "$npos")" "${cwords[0]}" "$store"
    fi
}

_centrali() {
    local cur=${COMP_WORDS[COMP_CWORD]} line
    local -a line_words=("${COMP_WORDS[@]:0:COMP_CWORD+1}")
    if [[ $cur == = ]]; then # the cursor is right after --flag=
        cur=''
        line_words[COMP_CWORD]=''
    fi
    COMPREPLY=()
    while IFS= read -r line; do
        case $line in
            @file)
                compopt -o filenames 2>/dev/null
                mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$cur")
                ;;
            @dir)
                compopt -o filenames 2>/dev/null
                mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -d -- "$cur")
                ;;
            "$cur"*) COMPREPLY+=("$line") ;;
        esac
    done < <(_centrali_candidates "${line_words[@]}")
}

complete -F _centrali centrali
)BASH";

std::string bash_case(const std::string& function, const std::string& comment, const std::string& subject,
                      const std::vector<Arm>& arms, const std::string& after = "")
{
  std::string out = "\n" + comment + function + "() {\n    case " + subject + " in\n";
  for (const auto& a : arms) out += "        " + a.pattern + ") printf '%s\\n' " + sh_quote(a.value) + " ;;\n";
  out += "    esac\n" + after + "}\n";
  return out;
}

// ---------------------------------------------------------------------------
// zsh
// ---------------------------------------------------------------------------

constexpr const char* k_zsh_head = R"(#compdef centrali
# zsh completion for centrali(1).
# Generated by `centrali completion zsh` from the command tree; do not edit.
# Regenerate: centrali completion zsh > completions/_centrali
# Install: copy to a folder in $fpath (e.g. /usr/share/zsh/vendor-completions
# or ~/.zfunc with fpath=(~/.zfunc $fpath) before compinit), named _centrali.
)";

constexpr const char* k_zsh_body = R"ZSH(
# Candidates from a value form: @file and @dir pass through for _files;
# @dyn:KIND asks the binary for "id<TAB>description" lines from the store.
_centrali_values() {
    emulate -L zsh
    local form=$1 bin=$2 store=$3 line
    local -a args
    case $form in
        ('' | @text) ;;
        (@file | @dir) print -r -- $form ;;
        (@dyn:*)
            args=(__complete ${form#@dyn:})
            [[ -n $store ]] && args=(--store $store $args)
            "${bin/#\~/$HOME}" $args 2>/dev/null | while IFS= read -r line; do
                if [[ $line == *$'\t'* ]]; then
                    print -r -- "${${line%%$'\t'*}//:/\\:}:${line#*$'\t'}"
                else
                    print -r -- "${line//:/\\:}"
                fi
            done
            ;;
        (*) print -rl -- ${=form} ;;
    esac
}

# Prints every candidate for the last of "$@" (the words up to the cursor,
# program first) as "word:description" lines, unfiltered. Free of compsys,
# so `zsh -c` can test it without compinit.
_centrali_candidates() {
    emulate -L zsh
    local -a cwords subs
    cwords=("$@")
    local cmdpath='' store='' want='' word
    integer npos=0 i
    for (( i = 2; i < $#cwords; i++ )); do
        word=$cwords[i]
        if [[ -n $want ]]; then
            [[ $want == --store ]] && store=$word
            want=''
            continue
        fi
        case $word in
            (--store=*) store=${word#--store=}; continue ;;
            (--*=*) continue ;;
            (-*) [[ -n $(_centrali_flag_value "$cmdpath" "$word") ]] && want=$word; continue ;;
        esac
        subs=(${${(f)"$(_centrali_commands "$cmdpath")"}%%:*})
        if (( ${subs[(Ie)$word]} )); then
            cmdpath=${cmdpath:+$cmdpath }$word
            npos=0
        else
            npos+=1
        fi
    done
    if [[ -n $want ]]; then
        _centrali_values "$(_centrali_flag_value "$cmdpath" "$want")" "$cwords[1]" "$store"
    elif [[ $cwords[-1] == -* ]]; then
        _centrali_flags "$cmdpath"
    else
        (( npos == 0 )) && _centrali_commands "$cmdpath"
        _centrali_values "$(_centrali_positional "$cmdpath" "$npos")" "$cwords[1]" "$store"
    fi
}

_centrali() {
    local -a line_words values
    local line ret=1
    line_words=("${(@)words[1,CURRENT-1]}")
    # --flag=value: complete the value after the '='.
    if [[ $PREFIX == --*=* ]]; then
        line_words+=("${PREFIX%%=*}")
        compset -P '*='
    fi
    line_words+=("$PREFIX")
    for line in "${(@f)$(_centrali_candidates "${(@)line_words}")}"; do
        case $line in
            (@file) _files && ret=0 ;;
            (@dir) _files -/ && ret=0 ;;
            (?*) values+=("$line") ;;
        esac
    done
    (( $#values )) && _describe -t values centrali values && ret=0
    return ret
}

# Autoloaded from $fpath, this file is the body of _centrali: run it. Sourced
# by hand after compinit, register it.
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _centrali "$@"
elif (( $+functions[compdef] )); then
    compdef _centrali centrali
fi
)ZSH";

// "name:description" with the colon in names escaped, as _describe reads it.
std::string zsh_item(const std::string& name, const std::string& help)
{
  std::string escaped;
  for (char c : name) escaped += c == ':' ? std::string("\\:") : std::string(1, c);
  return help.empty() ? escaped : escaped + ":" + help;
}

std::string zsh_print_lines(const std::vector<std::string>& items)
{
  std::string out = "print -rl --";
  for (const auto& i : items) out += " " + sh_quote(i);
  return out;
}

std::vector<std::string> zsh_flag_items(const std::vector<FlagSpec>& flags)
{
  std::vector<std::string> out;
  for (const auto& f : flags)
    for (const auto& n : f.names) out.push_back(zsh_item(n, f.help));
  return out;
}

std::string zsh_case(const std::string& function, const std::string& comment, const std::string& subject,
                     const std::vector<Arm>& arms, const std::string& after = "")
{
  std::string out = "\n" + comment + function + "() {\n    emulate -L zsh\n    case " + subject + " in\n";
  for (const auto& a : arms) out += "        (" + a.pattern + ") print -r -- " + sh_quote(a.value) + " ;;\n";
  out += "    esac\n" + after + "}\n";
  return out;
}

// ---------------------------------------------------------------------------
// fish
// ---------------------------------------------------------------------------

constexpr const char* k_fish_head = R"(# fish completion for centrali(1).
# Generated by `centrali completion fish` from the command tree; do not edit.
# Regenerate: centrali completion fish > completions/centrali.fish
# Install: copy to /usr/share/fish/vendor_completions.d/centrali.fish or
# ~/.config/fish/completions/centrali.fish.
)";

constexpr const char* k_fish_body = R"FISH(
# Reads the command line before the cursor into $__centrali_path (the
# command path, e.g. "webhooks add"), $__centrali_npos (positional words
# after it) and $__centrali_store (--store). Every condition below calls
# it, so the result is kept until the command line changes.
function __centrali_parse
    set -l tokens (commandline -opc)
    set -l key (string join \n -- $tokens)
    if set -q __centrali_parsed; and test "$__centrali_parsed" = "$key"
        return 0
    end
    set -g __centrali_parsed $key
    set -e tokens[1]
    set -l cmdpath
    set -l npos 0
    set -l store
    set -l want
    for t in $tokens
        if test -n "$want"
            test "$want" = --store; and set store $t
            set want
            continue
        end
        switch $t
            case '--store=*'
                set store (string replace -- --store= '' $t)
                continue
            case '--*=*'
                continue
            case '-*'
                set -l here (string join ' ' -- $cmdpath)
                if contains -- "*|$t" $__centrali_value_flags; or contains -- "$here|$t" $__centrali_value_flags
                    set want $t
                end
                continue
        end
        set -l here (string join ' ' -- $cmdpath)
        if contains -- $t (__centrali_commands "$here")
            set -a cmdpath $t
            set npos 0
        else
            set npos (math $npos + 1)
        end
    end
    set -g __centrali_path (string join ' ' -- $cmdpath)
    set -g __centrali_npos $npos
    set -g __centrali_store $store
end

# True when the command path is $argv[1] and the cursor is at positional
# word $argv[2] ("N+" for N or later).
function __centrali_at
    __centrali_parse
    test "$__centrali_path" = "$argv[1]"; or return 1
    set -l n (string trim -r -c + -- $argv[2])
    if string match -q -- '*+' $argv[2]
        test $__centrali_npos -ge $n
    else
        test $__centrali_npos -eq $n
    end
end

# True when the command path is $argv[1].
function __centrali_is
    __centrali_parse
    test "$__centrali_path" = "$argv[1]"
end

# Names from the store ("id<TAB>description"), silently nothing without one.
function __centrali_dyn
    __centrali_parse
    set -l bin (commandline -opc)[1]
    set -l args __complete $argv[1]
    test -n "$__centrali_store"; and set args --store $__centrali_store $args
    $bin $args 2>/dev/null
end

complete -c centrali -f
)FISH";

std::string fish_value_args(const ValueSpec& v)
{
  switch (v.kind) {
  case ValueKind::none: return "";
  case ValueKind::text: return " -x";
  case ValueKind::choices: return " -x -a " + fish_quote(join(v.choices));
  case ValueKind::file: return " -r -F";
  case ValueKind::dir: return " -x -a '(__fish_complete_directories (commandline -ct))'";
  case ValueKind::dynamic: return " -x -a " + fish_quote("(__centrali_dyn " + v.store_kind + ")");
  }
  return "";
}

std::string fish_flag(const std::string& condition, const FlagSpec& f)
{
  std::string out = "complete -c centrali";
  if (!condition.empty()) out += " -n " + fish_quote(condition);
  for (const auto& n : f.names) out += n.starts_with("--") ? " -l " + n.substr(2) : " -s " + n.substr(1);
  out += fish_value_args(f.value);
  if (!f.help.empty()) out += " -d " + fish_quote(f.help);
  return out + "\n";
}

} // namespace

// ---------------------------------------------------------------------------

Tree describe(CLI::App& root)
{
  Tree tree;
  walk(root, "", tree, true);
  return tree;
}

const std::vector<std::string>& store_kinds()
{
  static const std::vector<std::string> kinds = {"sources",    "webhooks", "triggers",   "deliveries",
                                                   "events",     "runs",     "automations", "automation-runs"};
  return kinds;
}

std::string bash_script(const Tree& tree)
{
  std::vector<Arm> commands, flags;
  for (const auto& c : tree.commands) {
    if (!c.children.empty()) commands.push_back({sh_quote(c.path), join(c.children)});
    flags.push_back({sh_quote(c.path), join(flag_names(c.flags))});
  }
  std::string out = k_bash_head;
  out += bash_case("_centrali_commands", "# The subcommands of a command path ('' is the top level).\n", "$1", commands);
  out += bash_case("_centrali_flags", "# The flags of a command path, then the global ones that work anywhere.\n", "$1",
                   flags, "    printf '%s\\n' " + sh_quote(join(flag_names(tree.globals))) + "\n");
  out += bash_case("_centrali_flag_value",
                   "# What follows a flag that takes a value (see _centrali_values); nothing for\n"
                   "# a flag without one. $1 is the command path, $2 the flag.\n",
                   "$1:$2", flag_value_arms(tree));
  out += bash_case("_centrali_positional", "# The same for positional word $2 (from 0) of command path $1.\n", "$1:$2",
                   positional_arms(tree));
  out += k_bash_body;
  return out;
}

std::string zsh_script(const Tree& tree)
{
  std::vector<Arm> commands, flags;
  for (const auto& c : tree.commands) {
    if (!c.children.empty()) {
      std::vector<std::string> items;
      for (std::size_t i = 0; i < c.children.size(); ++i) items.push_back(zsh_item(c.children[i], c.child_help[i]));
      commands.push_back({sh_quote(c.path), zsh_print_lines(items)});
    }
    flags.push_back({sh_quote(c.path), zsh_print_lines(zsh_flag_items(c.flags))});
  }
  // These two print several lines each, so their arms hold commands.
  auto lines_case = [](const std::string& function, const std::string& comment, const std::vector<Arm>& arms,
                       const std::string& after) {
    std::string out = "\n" + comment + function + "() {\n    emulate -L zsh\n    case $1 in\n";
    for (const auto& a : arms) out += "        (" + a.pattern + ") " + a.value + " ;;\n";
    return out + "    esac\n" + after + "}\n";
  };
  std::string out = k_zsh_head;
  out += lines_case("_centrali_commands", "# \"name:description\" of the subcommands of a command path ('' = top).\n",
                    commands, "");
  out += lines_case("_centrali_flags", "# \"flag:description\" of a command path's flags, then the global ones.\n",
                    flags, "    " + zsh_print_lines(zsh_flag_items(tree.globals)) + "\n");
  out += zsh_case("_centrali_flag_value",
                  "# What follows a flag that takes a value (see _centrali_values); nothing for\n"
                  "# a flag without one. $1 is the command path, $2 the flag.\n",
                  "$1:$2", flag_value_arms(tree));
  out += zsh_case("_centrali_positional", "# The same for positional word $2 (from 0) of command path $1.\n", "$1:$2",
                  positional_arms(tree));
  out += k_zsh_body;
  return out;
}

std::string fish_script(const Tree& tree)
{
  std::string out = k_fish_head;
  out += "\n# The subcommands of a command path ('' is the top level), one per line.\n";
  out += "function __centrali_commands\n    switch $argv[1]\n";
  for (const auto& c : tree.commands) {
    if (c.children.empty()) continue;
    out += "        case " + fish_quote(c.path) + "\n            printf '%s\\n'";
    for (const auto& child : c.children) out += " " + fish_quote(child);
    out += "\n";
  }
  out += "    end\nend\n";

  out += "\n# Flags that take a value, as \"path|flag\" (\"*|flag\" for the global ones).\n";
  out += "set -g __centrali_value_flags";
  for (const auto& g : tree.globals)
    if (g.value.kind != ValueKind::none)
      for (const auto& n : g.names) out += " " + fish_quote("*|" + n);
  for (const auto& c : tree.commands)
    for (const auto& f : c.flags)
      if (f.value.kind != ValueKind::none)
        for (const auto& n : f.names) out += " \\\n    " + fish_quote(c.path + "|" + n);
  out += "\n";
  out += k_fish_body;

  out += "\n# Global flags: they work after any subcommand.\n";
  for (const auto& g : tree.globals) out += fish_flag("", g);
  for (const auto& c : tree.commands) {
    out += "\n# centrali" + (c.path.empty() ? "" : " " + c.path) + "\n";
    std::string is = "__centrali_is " + fish_quote(c.path);
    for (const auto& f : c.flags) out += fish_flag(is, f);
    for (std::size_t i = 0; i < c.children.size(); ++i) {
      out += "complete -c centrali -n " + fish_quote("__centrali_at " + fish_quote(c.path) + " 0") + " -a " +
             fish_quote(c.children[i]);
      if (!c.child_help[i].empty()) out += " -d " + fish_quote(c.child_help[i]);
      out += "\n";
    }
    for (std::size_t i = 0; i < c.positionals.size(); ++i) {
      const auto& p = c.positionals[i];
      std::string at = "__centrali_at " + fish_quote(c.path) + " " + std::to_string(i) + (p.many ? "+" : "");
      std::string line = "complete -c centrali -n " + fish_quote(at);
      switch (p.value.kind) {
      case ValueKind::choices: line += " -a " + fish_quote(join(p.value.choices)); break;
      case ValueKind::file: line += " -F"; break;
      case ValueKind::dir: line += " -a '(__fish_complete_directories (commandline -ct))'"; break;
      case ValueKind::dynamic: line += " -a " + fish_quote("(__centrali_dyn " + p.value.store_kind + ")"); break;
      case ValueKind::none:
      case ValueKind::text: continue;  // nothing to offer
      }
      out += line + "\n";
    }
  }
  return out;
}

std::string listing(const Tree& tree)
{
  std::string out = "(global)\t" + join(flag_names(tree.globals)) + "\n";
  for (const auto& c : tree.commands) {
    std::vector<std::string> positionals;
    for (const auto& p : c.positionals)
      positionals.push_back((p.required ? "<" : "[") + p.name + (p.many ? "..." : "") + (p.required ? ">" : "]"));
    out += "centrali" + (c.path.empty() ? "" : " " + c.path) + "\t" + join(flag_names(c.flags)) + "\t" +
           join(positionals) + "\n";
  }
  return out;
}

json to_json(const Tree& tree)
{
  auto value_json = [](const ValueSpec& v) {
    static const char* names[] = {"none", "text", "choices", "file", "dir", "dynamic"};
    json j = {{"kind", names[static_cast<int>(v.kind)]}};
    if (v.kind == ValueKind::choices) j["choices"] = v.choices;
    if (v.kind == ValueKind::dynamic) j["store_kind"] = v.store_kind;
    return j;
  };
  auto flag_json = [&](const FlagSpec& f) {
    return json{{"names", f.names},
                {"help", f.help},
                {"type", f.type_name},
                {"default", f.default_value},
                {"value", value_json(f.value)}};
  };
  json globals = json::array();
  for (const auto& g : tree.globals) globals.push_back(flag_json(g));
  json commands = json::array();
  for (const auto& c : tree.commands) {
    json flags = json::array();
    for (const auto& f : c.flags) flags.push_back(flag_json(f));
    json positionals = json::array();
    for (const auto& p : c.positionals)
      positionals.push_back({{"name", p.name},
                             {"help", p.help},
                             {"many", p.many},
                             {"required", p.required},
                             {"value", value_json(p.value)}});
    commands.push_back({{"path", c.path},
                        {"help", c.help},
                        {"subcommands", c.children},
                        {"flags", flags},
                        {"positionals", positionals}});
  }
  return {{"globals", globals}, {"commands", commands}};
}

} // namespace centrali::cli::completion
