using System.CommandLine;

namespace VNetCompose.Cli.Commands;

/// <summary>
/// <c>vnet completion bash|zsh|fish</c>: prints a script that makes the shell ask vnet itself what may come
/// next, through System.CommandLine's <c>[suggest:POSITION]</c> directive: commands, options, instance
/// names (<c>--name</c>), the namespaces of a lab (<c>exec</c>), namespaces (<c>--host-netns</c>) and
/// topology files. Each script calls the vnet the user typed (<c>vnet</c>, <c>./vnet</c>) and
/// names it by its file name on the line it hands over, which is how vnet knows itself.
/// </summary>
internal static class CompletionCommand
{
    public static Command Create()
    {
        var shell = new Argument<string>("SHELL") { Description = "bash, zsh or fish." };
        shell.AcceptOnlyFromAmong("bash", "zsh", "fish");
        var command = new Command("completion",
            "Print a shell completion script: source <(vnet completion bash), source <(vnet completion zsh), vnet completion fish | source.")
        {
            shell,
        };
        command.SetAction(parse =>
        {
            parse.InvocationConfiguration.Output.Write(parse.GetRequiredValue(shell) switch
            {
                "bash" => Bash,
                "zsh" => Zsh,
                _ => Fish,
            });
            return 0;
        });
        return command;
    }

    /// <summary>Options are offered only once the word starts with '-', so files and names are not lost among them.</summary>
    public const string Bash = """
        # bash completion for vnet. Load it with:  source <(vnet completion bash)
        # or install it:  vnet completion bash > /etc/bash_completion.d/vnet
        # vnet answers itself (the [suggest] directive): commands, options, instances, lab namespaces, topology files.
        _vnet_complete() {
            local cur=${COMP_WORDS[COMP_CWORD]}
            local line=${COMP_LINE:0:COMP_POINT}
            line="${COMP_WORDS[0]##*/}${line#*"${COMP_WORDS[0]}"}"
            local IFS=$'\n'
            local -a candidates=() shown=()
            candidates=($("${COMP_WORDS[0]}" "[suggest:${#line}]" "$line" 2>/dev/null))
            local c
            for c in "${candidates[@]}"; do
                [[ $c == -* && $cur != -* ]] || shown+=("$c")
            done
            COMPREPLY=($(compgen -W "${shown[*]}" -- "$cur"))
            if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == */ ]]; then
                compopt -o nospace 2>/dev/null
            fi
        }
        complete -F _vnet_complete vnet

        """;

    public const string Zsh = """
        #compdef vnet
        # zsh completion for vnet. Load it with:  source <(vnet completion zsh)
        # or install it as _vnet in a directory of $fpath.
        # vnet answers itself (the [suggest] directive): commands, options, instances, lab namespaces, topology files.
        _vnet() {
            local cur=${words[CURRENT]}
            local line="${words[1]:t} ${(j: :)words[2,CURRENT]}"
            local -a candidates dirs others
            candidates=("${(@f)$(${words[1]} "[suggest:${#line}]" "$line" 2>/dev/null)}")
            candidates=(${candidates:#})
            [[ $cur == -* ]] || candidates=(${candidates:#-*})
            dirs=(${(M)candidates:#*/})
            others=(${candidates:#*/})
            (( ${#dirs} )) && compadd -S '' -- $dirs
            (( ${#others} )) && compadd -- $others
            return 0
        }
        if (( ! $+functions[compdef] )); then
            autoload -Uz compinit && compinit
        fi
        compdef _vnet vnet

        """;

    public const string Fish = """
        # fish completion for vnet. Load it with:  vnet completion fish | source
        # or install it:  vnet completion fish > ~/.config/fish/completions/vnet.fish
        # vnet answers itself (the [suggest] directive): commands, options, instances, lab namespaces, topology files.
        function __vnet_complete
            set -l tokens (commandline -opc)
            set -l cur (commandline -ct)
            set -l line (string join -- ' ' (string replace -r '.*/' '' -- $tokens[1]) $tokens[2..-1] "$cur")
            for candidate in ($tokens[1] "[suggest:"(string length -- "$line")"]" "$line" 2>/dev/null)
                if string match -q -- '-*' $candidate; and not string match -q -- '-*' $cur
                    continue
                end
                echo $candidate
            end
        end
        complete -c vnet -f -a '(__vnet_complete)'

        """;
}
