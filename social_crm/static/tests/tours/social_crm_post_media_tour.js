import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("social_crm_post_media", {
    steps: () => [
        {
            content: "The image-only reply shows its image as a link named by its alt text",
            trigger:
                ".o_field_widget[name=post_ids] .o_social_post:not(:has(img)) a[href^='https://cdn.bsky.app/img/feed_fullsize/']:contains(Tent pole snapped at the joint)",
        },
        {
            content: "The labelled post is folded in the thread, the reason shown",
            trigger: ".o_field_widget[name=post_ids] .o_social_post details:not([open]) summary:contains(Hidden: graphic-media)",
        },
        {
            content: "Open the labelled post",
            trigger: ".o_field_widget[name=post_ids] .o_social_post:contains(Hidden: graphic-media) .o_social_post_avatar",
            run: "click",
        },
        {
            content: "Its content is folded, the reason shown",
            trigger: ".modal .o_social_message_content details:not([open]) summary:contains(Hidden: graphic-media)",
        },
        {
            content: "The labels are shown",
            trigger: ".modal .alert-warning:contains(!warn)",
        },
        {
            content: "Unfold it",
            trigger: ".modal .o_social_message_content details summary",
            run: "click",
        },
        {
            content: "The text shows once asked",
            trigger: ".modal .o_social_message_content details[open] p:contains(Cut my hand):visible",
        },
        {
            content: "Close the post",
            trigger: ".modal .btn-close",
            run: "click",
        },
        {
            content: "Open the image-only reply",
            trigger: ".o_field_widget[name=post_ids] .o_social_post:contains(Tent pole snapped at the joint) .o_social_post_avatar",
            run: "click",
        },
        {
            content: "Its image is a link with its alt text, and no image loads",
            trigger:
                ".modal .o_social_message_content:not(:has(img)) a[href^='https://cdn.bsky.app/img/feed_fullsize/']:contains(Tent pole snapped at the joint)",
        },
    ],
});
