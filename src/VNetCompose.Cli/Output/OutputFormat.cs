using System.CommandLine;

namespace VNetCompose.Cli.Output;

/// <summary>The <c>-o, --output text|json</c> option: text for people, one JSON document on stdout for programs.</summary>
internal static class OutputFormat
{
    public const string Text = "text";
    public const string Json = "json";

    public static Option<string> Create()
    {
        var output = new Option<string>("--output", "-o")
        {
            Description = "text (default) or json: one JSON document on stdout (schemas/ describes each); logs stay on stderr.",
            DefaultValueFactory = _ => Text,
        };
        output.AcceptOnlyFromAmong(Text, Json);
        return output;
    }

    public static bool IsJson(this ParseResult parse, Option<string> output) => parse.GetValue(output) == Json;
}
